/**
 * @module
 * Every fuzz target by name.
 */

import { authClientTarget, authServerTarget } from './auth.js';
import { channelsClientTarget, channelsServerTarget } from './channels.js';
import { kexClientTarget, kexServerTarget, versionTarget } from './plain.js';
import type { FuzzTarget, TargetName } from './types.js';

export { type FuzzTarget, TARGET_NAMES, type TargetName } from './types.js';

/** The targets, in phase order. */
export const TARGETS: Readonly<Record<TargetName, FuzzTarget>> = {
  version: versionTarget,
  'kex-client': kexClientTarget,
  'kex-server': kexServerTarget,
  'auth-server': authServerTarget,
  'auth-client': authClientTarget,
  'channels-server': channelsServerTarget,
  'channels-client': channelsClientTarget,
};
