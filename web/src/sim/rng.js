// A small seeded random number generator, so that resets, disturbances and noise are
// reproducible in the page, in the Node evaluation and in tests (Math.random is not
// seedable). sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), seeded
// through splitmix32 so that nearby seeds give unrelated streams.

function splitmix32(state) {
  let z = (state + 0x9e3779b9) | 0;
  const next = z;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

export class Rng {
  /** seed: any integer (taken modulo 2^32). */
  constructor(seed = 0) {
    let s = seed >>> 0;
    const words = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(s);
      s = next;
      words.push(out);
    }
    [this.a, this.b, this.c, this.d] = words;
    this._spare = null;
    for (let i = 0; i < 12; i++) this.nextU32(); // warm up
  }

  nextU32() {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform() {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo, hi) {
    return lo + (hi - lo) * this.uniform();
  }

  /** Standard normal (Box-Muller; the second value is kept for the next call). */
  normal() {
    if (this._spare !== null) {
      const v = this._spare;
      this._spare = null;
      return v;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log stays finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this._spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** A new generator whose stream depends only on this one's next output. */
  fork() {
    return new Rng(this.nextU32());
  }
}
