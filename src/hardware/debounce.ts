// A level debouncer for detector inputs: a new level counts only after it has held for `ms`.
// Contact bounce and short spikes (shorter than `ms`) are dropped; a steady alarm output is reported once.

export class Debouncer {
  private stable = false;
  private raw = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    /** Called with each new stable level (starting from inactive). */
    private readonly onChange: (active: boolean) => void,
  ) {}

  get level(): boolean {
    return this.stable;
  }

  input(active: boolean): void {
    this.raw = active;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (active === this.stable) return;
    if (this.ms === 0) this.settle();
    else this.timer = setTimeout(() => this.settle(), this.ms);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private settle() {
    this.timer = undefined;
    if (this.raw === this.stable) return;
    this.stable = this.raw;
    this.onChange(this.stable);
  }
}
