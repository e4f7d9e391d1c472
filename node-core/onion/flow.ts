/**
 * SENDME-style flow control for ESCAPE (application data) cells, per circuit end-to-end pair
 * (client ↔ one hop), in both directions (tor-spec §7.3, circuit-level windows only).
 *
 * The sender may have at most WINDOW_START unacknowledged ESCAPE cells in flight; the receiver
 * sends a SENDME after each SENDME_INCREMENT cells it delivered, which reopens the window by
 * that much. A receiver that gets more cells than the window allows, or a sender that gets a
 * SENDME it did not earn, treats it as a protocol violation.
 *
 * The receiver's window reopens when its SENDME actually leaves on the link, not when the
 * SENDME is decided: a SENDME still waiting behind a congested link or a rate limit cannot have
 * reached the sender, so cells beyond the window are then a violation a well-behaved sender
 * never commits. (Crediting at decision time would make the check unreachable: the window would
 * never fall below WINDOW_START - SENDME_INCREMENT whatever the sender did.)
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
  /** A SENDME was sent on the link at once (sendmeQueued + sendmeSent). */
  sent(): void {
    this.sendmeQueued();
    this.sendmeSent();
  }
  /** A SENDME is on its way (queued behind other cells): the cells it covers are acknowledged. */
  sendmeQueued(): void {
    if (this.unacked < SENDME_INCREMENT) throw new RangeError('no SENDME is due');
    this.unacked -= SENDME_INCREMENT;
  }
  /** A queued SENDME left on the link: the window reopens by SENDME_INCREMENT. */
  sendmeSent(): void {
    this.window += SENDME_INCREMENT;
  }
}
