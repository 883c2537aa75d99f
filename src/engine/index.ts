// The win11mon policy engine: validate(policy, submission, context) -> decision, as a pure library
// shared by the emulated kernel, the driver, the CLI and replays. See docs/policy.md.
//
// @example
// import { PolicyEngine, Decision } from './engine/index.js';
// import { InterceptRequestView } from './abi/request.js';
// const engine = new PolicyEngine();                     // embedded default policy, enforcing
// const view = new InterceptRequestView();                // reuse both per thread: no allocation per request
// const d = new Decision();
// engine.validate(view.reset(bytes), { nowNs, processId, imageName, imagePath, regBuffers, handleKnown: true }, d);
// // d.action (Allow 0 / Block 1 / LogOnly 2), d.reason, d.violatingOpIndex, d.technique, d.policyVersion, d.policyHash
// // or, for raw bytes that may be malformed (never throws):
// const r = engine.MonInterceptValidateSubmission(bytes, ctx); // { status, response, responseBytes, decision, explanation }
export {
  Decision,
  ViolationFlags,
  violationFlagNames,
  CHECK_IDS,
  CheckMode,
  REASON_TECHNIQUES,
  type CheckId,
  type CheckModeName,
  type DecisionSource,
  type RegBufferEntryState,
  type RegBufferState,
  type SubmissionContext,
  type ViolationSink,
} from './types.js';
export { PolicyEngine, explainDecision, type Violation, type ValidationResult, type SetPolicyResult, type PolicyEngineOptions } from './engine.js';
export {
  PolicySchema,
  defaultPolicy,
  loadPolicyText,
  loadPolicyObject,
  normalizePolicy,
  policyHash,
  formatPolicyIssue,
  type PolicyDocument,
  type PolicyOverride,
  type PolicyIssue,
  type LoadResult,
} from './policy.js';
export { decodePolicyBinary, encodePolicyBinary, policyToBinary, applyBinaryPolicy, type BinaryPolicy } from './policy-binary.js';
export { EngineStats, decodeStatsExtension, type DecodedStats, type StatsExtension, statsPayloadSize, LATENCY_BUCKETS, MON_STATS_EXT_MAGIC, MON_STATS_EXT_VERSION, STATS_EXT_FIXED_SIZE, STATS_TOP_TALKER_SIZE } from './stats.js';
export { decodeBlacklist, type BlacklistEntry } from './checks/blacklist.js';
export { compileImagePattern, matchImage } from './glob.js';
export { expectedMcEntrySize, regBufferStateFromSnapshot } from './checks/regbuffers.js';
export { bufferRangeFlags } from './checks/buffers.js';
