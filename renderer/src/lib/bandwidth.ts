/**
 * The relay's bandwidth slider works on a logarithmic scale, so 16 KB/s … 1,000,000 KB/s (the
 * contract's bounds for `relay.set`) fit on one control with useful steps at the low end.
 */
import { MAX_BANDWIDTH_KBPS, MIN_BANDWIDTH_KBPS } from '../state/relay';

/** Positions of the slider: 0 … SLIDER_STEPS. */
export const SLIDER_STEPS = 1000;
const LOG_MIN = Math.log(MIN_BANDWIDTH_KBPS);
const LOG_MAX = Math.log(MAX_BANDWIDTH_KBPS);

/** Slider position → KB/s, rounded to two significant digits and kept within the bounds. */
export function sliderToKBps(position: number): number {
  if (typeof position !== 'number' || !Number.isFinite(position)) throw new TypeError('position must be a finite number');
  const p = Math.min(SLIDER_STEPS, Math.max(0, position));
  const raw = Math.exp(LOG_MIN + (p / SLIDER_STEPS) * (LOG_MAX - LOG_MIN));
  const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(raw)) - 1);
  return Math.min(MAX_BANDWIDTH_KBPS, Math.max(MIN_BANDWIDTH_KBPS, Math.round(raw / magnitude) * magnitude));
}

/** KB/s → the nearest slider position. */
export function kbpsToSlider(kbps: number): number {
  if (typeof kbps !== 'number' || !Number.isFinite(kbps)) throw new TypeError('kbps must be a finite number');
  const clamped = Math.min(MAX_BANDWIDTH_KBPS, Math.max(MIN_BANDWIDTH_KBPS, kbps));
  return Math.round(((Math.log(clamped) - LOG_MIN) / (LOG_MAX - LOG_MIN)) * SLIDER_STEPS);
}
