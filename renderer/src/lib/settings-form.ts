/** The settings form: what it starts with, and which fields to send when it is saved. */
import { bandwidthProblem } from '../state/relay';
import type { Settings, SettingsChange } from '../state/settings';
import { nameProblem } from './validate';

/** The settings form's fields as typed (numbers still as text). */
export interface SettingsDraft {
  readonly displayName: string;
  readonly networkFile: string;
  readonly acceptStrangers: boolean;
  readonly readReceipts: boolean;
  readonly relayBandwidthKBps: string;
}

/** The form's starting values. */
export function toDraft(settings: Settings): SettingsDraft {
  return {
    displayName: settings.displayName,
    networkFile: settings.networkFile ?? '',
    acceptStrangers: settings.acceptStrangers,
    readReceipts: settings.readReceipts,
    relayBandwidthKBps: String(settings.relayBandwidthKBps),
  };
}

/** The fields of `draft` that differ from `settings`, or a reason why the draft cannot be saved. */
export function settingsChange(settings: Settings, draft: SettingsDraft): { change: SettingsChange } | { problem: string } {
  const change: { -readonly [K in keyof SettingsChange]: SettingsChange[K] } = {};
  const name = draft.displayName.trim();
  if (name !== settings.displayName) {
    const problem = nameProblem(name);
    if (problem !== null) return { problem: `Display name: ${problem}` };
    change.displayName = name;
  }
  const file = draft.networkFile.trim();
  const networkFile = file.length === 0 ? null : file;
  if (networkFile !== settings.networkFile) change.networkFile = networkFile;
  if (draft.acceptStrangers !== settings.acceptStrangers) change.acceptStrangers = draft.acceptStrangers;
  if (draft.readReceipts !== settings.readReceipts) change.readReceipts = draft.readReceipts;
  const bandwidth = Number(draft.relayBandwidthKBps);
  if (draft.relayBandwidthKBps.trim() === '' || bandwidth !== settings.relayBandwidthKBps) {
    const problem = draft.relayBandwidthKBps.trim() === '' ? 'Enter a number of KB/s.' : bandwidthProblem(bandwidth);
    if (problem !== null) return { problem: `Relay bandwidth: ${problem}` };
    change.relayBandwidthKBps = bandwidth;
  }
  return { change };
}

