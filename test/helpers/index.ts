/** Everything integration tests need from the harness, in one import. */
export * from './factories.ts';
export * from './sink.ts';
export * from './stack.ts';
export * from './wait.ts';
