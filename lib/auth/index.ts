/**
 * Who may call the pipeline's functions: verifying the Google-signed OIDC
 * tokens of Cloud Tasks (delivery, fan-out continuations) and of the Pub/Sub
 * push subscription (fan-out events). Shared by delivery and fan-out.
 */
export {
  verifyIdToken,
  verifyTaskToken,
  verifyFanoutCaller,
  callerAuthorization,
  apiCallerPolicy,
  audienceNamesService,
  SIGNATURE_REMOVED,
  MissingTokenError,
  InvalidTokenError,
  ForbiddenCallerError,
  TokenKeysUnavailableError,
  type TokenPolicy,
} from './token.ts';
export { AUTH_PROBLEMS, refuseCaller, refuseUnverifiedFanoutCaller, verifyDeliveryRequest } from './refusal.ts';
