/**
 * The guest's /init (busybox sh, pid 1) and the per-machine settings it sources. The init
 * loads the modules, mounts the read-only image and the machine's volume, brings up the
 * user-mode network, runs the machine's argv, relays signal requests that arrive as lines on
 * the console (the driver writes them to the serial port's socket), and powers off when the
 * program exits, printing its exit code for the driver to read from the log.
 */

/** Loaded in this order with busybox insmod (no modprobe, no depmod in the guest). */
export const GUEST_MODULES = [
  'virtio_ring',
  'virtio',
  'virtio_mmio',
  'failover',
  'net_failover',
  'virtio_net',
  'virtio_blk',
  'squashfs',
  'crc16',
  'mbcache',
  'jbd2',
  'crc32c_generic',
  'ext4',
];

/** The line the init prints when the program has exited: `erne-microvm: exited <code>`. */
export const EXIT_MARK = 'erne-microvm: exited ';
/** Printed when a KVM probe boot reaches userspace. */
export const PROBE_MARK = 'erne-microvm: probe ok';
/** Printed when node refused the startup snapshot and the command runs again without it. */
export const NO_SNAPSHOT_MARK = 'erne-microvm: node refused the startup snapshot (exit 14); starting the command without it';
/** Printed right before the program starts. */
export const READY_MARK = 'erne-microvm: starting ';

/**
 * Under TCG every fork costs milliseconds, so the init avoids them where sh can: no
 * $(command substitution), builtins for reading /proc and writing files, the directories and
 * busybox's applet links made by the initramfs (see initramfs.ts) rather than at boot.
 */
export const INIT_SCRIPT = `#!/bin/busybox sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
up() { read -r now _ </proc/uptime; }
up; t_init=$now
for m in ${GUEST_MODULES.join(' ')}; do insmod /modules/$m.ko 2>/dev/null || echo "erne-microvm: insmod $m failed"; done
read -r cmdline </proc/cmdline
case " $cmdline " in *" erne.probe "*) echo "${PROBE_MARK}"; poweroff -f;; esac
up; t_modules=$now
. /etc/erne-machine.sh
mount -t squashfs -o ro /dev/vda /.ro || echo "erne-microvm: cannot mount the image"
for d in $ERNE_BINDS; do [ -d "$d" ] || mkdir -p "$d"; mount --bind "/.ro$d" "$d"; done
[ -e /lib64 ] || ln -s usr/lib64 /lib64
[ -e /lib ] || ln -s usr/lib /lib
[ -d "$ERNE_VOLUME" ] || mkdir -p "$ERNE_VOLUME"
mount -t ext4 -o noatime /dev/vdb "$ERNE_VOLUME" || echo "erne-microvm: cannot mount the volume"
up; t_disks=$now
echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd
echo "root:x:0:" > /etc/group
printf '127.0.0.1 localhost\\n10.0.2.15 %s\\n' "$ERNE_HOSTNAME" > /etc/hosts
echo "nameserver 10.0.2.3" > /etc/resolv.conf
echo "$ERNE_HOSTNAME" > /proc/sys/kernel/hostname
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
stty -F /dev/console -echo
# TZ: without it Node scans zoneinfo at its first answer. msgpackr's native extractor is a
# second add-on to find and load at start, costly under TCG; LIBC spares node-gyp-build (which
# finds LMDB's add-on) its libc detection. The machine's own env (erne_env, below) wins.
libc=glibc
for f in /lib/ld-musl-*; do [ -e "$f" ] && libc=musl; done
export PATH=/usr/local/bin:/usr/bin:/bin HOME=/root TZ=UTC MSGPACKR_NATIVE_ACCELERATION_DISABLED=true LIBC=$libc
erne_env
cd "$ERNE_CWD" 2>/dev/null || cd /
up
echo "${READY_MARK}$1 (guest up $now s: init $t_init, modules $t_modules, disks $t_disks)"
# the program writes to a pipe, not to the console tty: a tty-owning program (node) would
# otherwise keep the relay below from reading the console
mkfifo /run/out
start() {
  cat /run/out >/dev/console &
  "$@" </dev/null >/run/out 2>&1 &
  pid=$!
  echo "$pid" >/run/pid
}
start "$@"
(while read -r cmd sig; do [ "$cmd" = erne-signal ] && read -r p </run/pid && kill -"$sig" "$p"; done) </dev/console &
wait "$pid"
code=$?
# node exits 14 when it refuses a startup snapshot (one made with other V8 flags, say from the
# machine's NODE_OPTIONS): the same command then runs without it
if [ "$code" = 14 ] && [ -n "$ERNE_WITHOUT_SNAPSHOT" ]; then
  echo "${NO_SNAPSHOT_MARK}"
  eval "set -- $ERNE_WITHOUT_SNAPSHOT"
  start "$@"
  wait "$pid"
  code=$?
fi
echo "${EXIT_MARK}$code"
sync
umount "$ERNE_VOLUME" 2>/dev/null
poweroff -f
`;

/** Single-quoted for sh: any byte is safe inside '…' except ' itself. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface GuestSettings {
  argv: string[];
  env: Record<string, string>;
  /** where the volume disk is mounted in the guest (the same path the argv names) */
  volumePath: string;
  /** directories of the image bound to the same paths in the guest */
  binds: string[];
  cwd: string;
  hostname: string;
  /** the command without the startup snapshot, run if node refuses the snapshot (exit code 14) */
  withoutSnapshot?: string[];
}

/** /etc/erne-machine.sh: sourced by the init; sets the argv as $@ and defines erne_env. */
export function machineScript(s: GuestSettings): string {
  for (const k of Object.keys(s.env)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`bad environment variable name: ${k}`);
  const lines = [
    `ERNE_VOLUME=${shQuote(s.volumePath)}`,
    `ERNE_BINDS=${shQuote(s.binds.join(' '))}`,
    `ERNE_CWD=${shQuote(s.cwd)}`,
    `ERNE_HOSTNAME=${shQuote(s.hostname)}`,
    `ERNE_WITHOUT_SNAPSHOT=${shQuote((s.withoutSnapshot ?? []).map(shQuote).join(' '))}`,
    `erne_env() {`,
    ...Object.entries(s.env).map(([k, v]) => `  export ${k}=${shQuote(v)}`),
    `  :`,
    `}`,
    `set -- ${s.argv.map(shQuote).join(' ')}`,
    '',
  ];
  return lines.join('\n');
}
