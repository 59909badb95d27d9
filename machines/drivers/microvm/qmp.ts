/**
 * A small QMP client (QEMU's JSON control protocol): one command at a time, events skipped.
 * Used for suspend (stop, migrate to a file, quit) and resume (wait for the incoming state,
 * cont).
 */
import net from 'node:net';

export class Qmp {
  private buf = '';
  private waiting: ((line: Record<string, unknown>) => void)[] = [];
  private closed?: Error;

  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, i).trim();
        this.buf = this.buf.slice(i + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as Record<string, unknown>;
        if ('event' in msg) continue;
        this.waiting.shift()?.(msg);
      }
    });
    const fail = (err?: Error) => {
      this.closed = err ?? new Error('QMP connection closed');
      for (const w of this.waiting.splice(0)) w({ error: { desc: this.closed.message } });
    };
    sock.on('error', fail);
    sock.on('close', () => fail());
  }

  /** Connects to an abstract unix socket (name without the leading NUL). */
  static async connect(abstractName: string, timeoutMs = 5000): Promise<Qmp> {
    const sock = net.connect({ path: `\0${abstractName}` });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`QMP: no answer on @${abstractName}`)), timeoutMs);
      sock.once('connect', () => (clearTimeout(t), resolve()));
      sock.once('error', (e) => (clearTimeout(t), reject(e)));
    });
    const qmp = new Qmp(sock);
    await qmp.next(); // the greeting
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  private next(): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    const answer = this.next();
    this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    const msg = await answer;
    if (msg.error) throw new Error(`QMP ${command}: ${(msg.error as { desc?: string }).desc ?? JSON.stringify(msg.error)}`);
    return msg.return as T;
  }

  close(): void {
    this.sock.destroy();
  }
}
