/**
 * Zipfian choice of an item in [0, n) as YCSB makes it (Gray et al., "Quickly generating
 * billion-record synthetic databases", constant 0.99), then scrambled with an FNV-1a hash
 * so the popular items are spread over the key space instead of all being the first keys.
 */
export function zipfian(n: number, theta = 0.99): () => number {
  let zetan = 0;
  for (let i = 1; i <= n; i += 1) zetan += 1 / i ** theta;
  const zeta2 = 1 + 1 / 2 ** theta;
  const alpha = 1 / (1 - theta);
  const eta = (1 - (2 / n) ** (1 - theta)) / (1 - zeta2 / zetan);
  const half = 0.5 ** theta;
  return () => {
    const u = Math.random();
    const uz = u * zetan;
    const rank = uz < 1 ? 0 : uz < 1 + half ? 1 : Math.floor(n * (eta * u - eta + 1) ** alpha);
    return fnv1a(Math.min(rank, n - 1)) % n;
  };
}

function fnv1a(x: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < 4; i += 1) {
    h ^= (x >>> (i * 8)) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
