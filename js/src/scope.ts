// What a panel listens to and runs on a timer, held in one place so that destroying the panel
// removes all of it: a view that outlived its panel would keep redrawing detached elements.

import type { Model, State } from "./types";

type Disposer = () => void;

export class Scope {
  private disposers: Disposer[] = [];

  constructor(private model: Model) {}

  /** Draw now, then again whenever one of `traits` changes (and only then). */
  watch(traits: (keyof State)[], draw: () => void): void {
    const redraw = () => draw();
    for (const trait of traits) {
      const event = `change:${String(trait)}`;
      this.model.on(event, redraw);
      this.disposers.push(() => this.model.off(event, redraw));
    }
    draw();
  }

  /** Undo `dispose` with the panel (a subscription the panel made elsewhere). */
  add(dispose: Disposer): void {
    this.disposers.push(dispose);
  }

  every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    this.disposers.push(() => clearInterval(timer));
  }

  dispose(): void {
    for (const dispose of this.disposers.splice(0)) dispose();
  }
}
