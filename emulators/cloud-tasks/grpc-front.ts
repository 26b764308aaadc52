/**
 * The gRPC front end: a grpc-js server for google.cloud.tasks.v2.CloudTasks
 * whose handlers are the API table. It owns no port: the shared listener
 * injects the HTTP/2 connections it receives.
 */
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from '../../lib/log.ts';
import type { Api } from './api.ts';
import { asApiError } from './errors.ts';
import { SERVICE_NAME, type Protos } from './protos.ts';

export interface GrpcFront {
  /** Hands an accepted connection (HTTP/2 preface already peeked) to the gRPC server. */
  inject(socket: import('node:stream').Duplex): void;
  stop(): void;
}

/** Builds the gRPC server over the API table; errors become gRPC statuses with the API error's code. */
export function createGrpcFront(api: Api, protos: Protos, log: Logger): GrpcFront {
  const server = new Server();
  const service = protos.packageDefinition[SERVICE_NAME] as ServiceDefinition;
  const impl: UntypedServiceImplementation = {};
  for (const [method, def] of Object.entries(service)) {
    const handler = api[method];
    const rpcName = def.originalName ?? method;
    impl[rpcName] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      if (!handler) {
        callback({ code: 12, details: `${method} is not implemented by the emulator.` });
        return;
      }
      Promise.resolve()
        .then(() => handler(call.request))
        .then(
          (response) => callback(null, response),
          (err: unknown) => {
            const e = asApiError(err);
            if (e.statusName === 'INTERNAL') log.error('gRPC handler failed', { method, err });
            callback({ code: e.code, details: e.message });
          },
        );
    };
  }
  server.addService(service, impl);
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  return {
    inject: (socket) => injector.injectConnection(socket),
    stop: () => {
      injector.destroy();
      server.forceShutdown();
    },
  };
}
