/**
 * @module
 * Every fuzz target by name.
 */

import { kexClientTarget, kexServerTarget, versionTarget } from './plain.js';
import {
  authClientTarget,
  authServerTarget,
  channelsClientTarget,
  channelsServerTarget,
} from './sealed.js';
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
