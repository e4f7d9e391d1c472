/**
 * The steps of going online, for the onboarding screen. The contract reports only the profile
 * state ("starting"), so the step is read off the network status: no signed node list yet →
 * fetching it; no access certificate yet → registering; no presence point accepted yet →
 * announcing presence.
 */
import type { NetworkStatus } from '../state/network';
import type { ProfileStatus } from '../state/profile';

export type StepState = 'done' | 'active' | 'todo';

export interface Step {
  readonly label: string;
  readonly state: StepState;
}

export interface Progress {
  readonly steps: readonly Step[];
  /** The active step's text ("Fetching the node list…"), or "Online" when all are done. */
  readonly current: string;
}

const STEP_LABELS = ['Fetching the node list', 'Registering', 'Announcing your presence'] as const;

/**
 * `first` names the step before going online: "Creating your keys" or "Unlocking your keys".
 * `profile` null means the answer is still awaited.
 */
export function onlineProgress(first: string, profile: ProfileStatus | null, network: NetworkStatus | null): Progress {
  if (typeof first !== 'string' || first.length === 0) throw new TypeError('first must be a non-empty string');
  const labels = [first, ...STEP_LABELS];
  let active: number;
  const state = profile?.state ?? 'none';
  if (state === 'online') active = labels.length;
  else if (state !== 'starting' && state !== 'offline') active = 0;
  else if (network === null || network.listAgeMs === null) active = 1;
  else if (network.certificateExpiresAt === null) active = 2;
  else if (!network.presencePoints.some((p) => p.accepted)) active = 3;
  else active = labels.length;
  const steps = labels.map((label, index): Step => ({
    label,
    state: index < active ? 'done' : index === active ? 'active' : 'todo',
  }));
  const current = active < labels.length ? `${labels[active]}…` : 'Online';
  return { steps, current };
}
