// A progress bar on stderr. On a terminal: one line redrawn in place (at most 10 times a second). Elsewhere
// (CI logs, pipes): a plain line at every 10% and at the end, so logs stay short.

export class Progress {
  private done = 0;
  private failed = 0;
  private lastDraw = 0;
  private lastDecile = -1;
  private readonly t0 = Date.now();

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly out: NodeJS.WriteStream | { isTTY?: boolean; write(s: string): boolean } = process.stderr,
    private readonly skipped = 0,
  ) {}

  tick(ok: boolean): void {
    this.done++;
    if (!ok) this.failed++;
    this.draw(false);
  }

  private line(): string {
    const frac = this.total ? this.done / this.total : 1;
    const secs = (Date.now() - this.t0) / 1000;
    const rate = this.done / Math.max(secs, 1e-3);
    const eta = rate > 0 ? (this.total - this.done) / rate : 0;
    const width = 24;
    const bar = "#".repeat(Math.round(frac * width)).padEnd(width, ".");
    const resumed = this.skipped ? `, ${this.skipped} resumed` : "";
    const failed = this.failed ? `, ${this.failed} failed` : "";
    return `${this.label} [${bar}] ${this.done}/${this.total} ${(frac * 100).toFixed(0)}% ${rate.toFixed(2)}/s eta ${eta.toFixed(0)}s${failed}${resumed}`;
  }

  private draw(final: boolean): void {
    if (this.out.isTTY) {
      const now = Date.now();
      if (!final && now - this.lastDraw < 100 && this.done < this.total) return;
      this.lastDraw = now;
      this.out.write(`\r\x1b[K${this.line()}${final ? "\n" : ""}`);
      return;
    }
    const decile = Math.floor((this.done / Math.max(this.total, 1)) * 10);
    if (decile > this.lastDecile) {
      this.lastDecile = decile;
      this.out.write(`${this.line()}\n`);
    }
  }

  finish(): void {
    if (this.out.isTTY) this.draw(true);
    else if (this.lastDecile < 10) this.out.write(`${this.line()}\n`);
  }
}
