/**
 * The start-up sweep of volume/tmp (item 20 of issue 9): a temp file named for a process
 * that is gone, or whose pid now belongs to another program, is removed at once; one of a live
 * Erne process sharing the volume (`--workers`), or of this process, stays; names of another
 * form are left to the janitor's age rule.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBlobStore } from '../../cache/file-blob-store.js';
import { tempDir } from '../helpers/gateway.js';

const children: ChildProcess[] = [];
function live(args: string[]): ChildProcess {
  const c = spawn(args[0]!, args.slice(1), { stdio: 'ignore' });
  children.push(c);
  return c;
}
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => c.once('exit', r));
  return c.pid!;
}

describe('opening a blob store sweeps temp files of dead writers', () => {
  it('removes the dead and the impostors, keeps live Erne processes and this one', async () => {
    const dir = tempDir('erne-tmp-sweep-');
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    // a live process whose command line names erne (as `erne serve` workers' do)
    const erne = live([process.execPath, '-e', 'setInterval(() => {}, 1000)', 'erne-serve-worker']);
    // a live process that is not Erne: its pid cannot own an Erne temp file
    const other = live(['sleep', '60']);
    const files = {
      dead: `${'a'.repeat(24)}.${await deadPid()}`,
      liveErne: `${'b'.repeat(24)}.${erne.pid}`,
      impostor: `${'c'.repeat(24)}.${other.pid}`,
      mine: `${'d'.repeat(24)}.${process.pid}`,
      oldForm: 'e'.repeat(24),
    };
    for (const name of Object.values(files)) writeFileSync(join(dir, 'tmp', name), 'partial');
    await openBlobStore(dir, { nodeId: 'n1' });
    expect(readdirSync(join(dir, 'tmp')).sort()).toEqual([files.liveErne, files.mine, files.oldForm].sort());
  });
});
