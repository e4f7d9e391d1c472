/**
 * SENDME-style flow control for ESCAPE (application data) cells, per circuit end-to-end pair
 * (client ↔ one hop), in both directions (tor-spec §7.3, circuit-level windows only).
 *
 * The sender may have at most WINDOW_START unacknowledged ESCAPE cells in flight; the receiver
 * sends a SENDME after each SENDME_INCREMENT cells it delivered, which reopens the window by
 * that much. A receiver that gets more cells than the window allows, or a sender that gets a
 * SENDME it did not earn, treats it as a protocol violation.
 */
export const WINDOW_START = 1000;
export const SENDME_INCREMENT = 100;

export class PackageWindow {
  private window = WINDOW_START;
  get open(): boolean {
    return this.window > 0;
  }
  get value(): number {
    return this.window;
  }
  /** Records one ESCAPE cell sent. */
  take(): void {
    if (this.window <= 0) throw new RangeError('package window is closed');
    this.window--;
  }
  /** A SENDME arrived; returns false if it was not earned (violation). */
  sendme(): boolean {
    if (this.window + SENDME_INCREMENT > WINDOW_START) return false;
    this.window += SENDME_INCREMENT;
    return true;
  }
}

export class DeliverWindow {
  private window = WINDOW_START;
  private unacked = 0;
  /** Records one ESCAPE cell received; returns false when the sender overran the window. */
  receive(): boolean {
    if (this.window <= 0) return false;
    this.window--;
    this.unacked++;
    return true;
  }
  /** True when a SENDME is due; call `sent()` after sending it. */
  get sendmeDue(): boolean {
    return this.unacked >= SENDME_INCREMENT;
  }
  sent(): void {
    this.unacked -= SENDME_INCREMENT;
    this.window += SENDME_INCREMENT;
  }
}
