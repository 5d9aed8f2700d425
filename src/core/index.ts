// Public face of the send pipeline: the Submitter the API and SMTP front ends call.
export { createSubmitter, type SubmitterDeps } from './submitter.js';
export type { PixelUrlFor, SubmitRequest, SubmitResult, Submitter } from './types.js';
export { findIdentity, identityCandidates } from './identity.js';
