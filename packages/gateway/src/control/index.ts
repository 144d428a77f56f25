export {
  ControlService,
  UNVERIFIED_SETTING,
  MAX_EXPORT_RECORDS,
  commandOfError,
  isRefusal,
} from './service.js';
export { FileProfiles, profileFileName } from './profiles.js';
export { realOf, wallOf } from './clock.js';
export { CommandLog, COMMANDS_KEPT } from './commands.js';
export {
  INTERLOCK_THRESHOLD_A,
  MOS_INTERLOCKS,
  mosInterlock,
  type MosInterlock,
} from './interlocks.js';
export {
  diffParameters,
  parameterFile,
  parameterInfo,
  readParameterFile,
  sameValue,
} from './parameters.js';
export * from './types.js';
