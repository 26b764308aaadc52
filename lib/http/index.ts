/**
 * Small HTTP helpers shared by every entry point, free of any framework:
 * request checks (media type, size, JSON), typed request errors, RFC 9457
 * problem answers, and the answer-as-data {@link HttpReply}.
 */
export * from './errors.ts';
export * from './request.ts';
export * from './reply.ts';
export * from './problem.ts';
export { fromFrameworkError } from './framework.ts';
