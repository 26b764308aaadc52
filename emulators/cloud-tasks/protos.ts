/**
 * The Cloud Tasks v2 protos, loaded from the descriptor that ships inside
 * `@google-cloud/tasks` (so the emulator speaks exactly the client's schema):
 * a gRPC package definition for the gRPC server and a protobufjs root for the
 * REST front end's proto3 JSON mapping.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fromJSON, type PackageDefinition, type Options } from '@grpc/proto-loader';
import protobuf from 'protobufjs';

export const SERVICE_NAME = 'google.cloud.tasks.v2.CloudTasks';
export const PACKAGE = 'google.cloud.tasks.v2';

/**
 * How messages look in handlers, on both transports: camelCase fields,
 * enums as names, 64-bit integers as strings, bytes as Buffers, only the
 * fields that were set, and `oneofs` naming the set member.
 */
export const MESSAGE_SHAPE: Options & protobuf.IConversionOptions = {
  keepCase: false,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: false,
  oneofs: true,
};

export interface Protos {
  root: protobuf.Root;
  packageDefinition: PackageDefinition;
  type(name: string): protobuf.Type;
}

function descriptorPath(): string {
  const require = createRequire(import.meta.url);
  // The package's exports hide the JSON descriptor, so find it next to the entry point.
  const entry = require.resolve('@google-cloud/tasks');
  let dir = path.dirname(entry);
  while (!dir.endsWith(`${path.sep}tasks`) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  return path.join(dir, 'build', 'protos', 'protos.json');
}

let loaded: Protos | undefined;

/** Loads the protos once per process. Throws if `@google-cloud/tasks` is not installed. */
export function loadProtos(): Protos {
  if (loaded) return loaded;
  const json = JSON.parse(readFileSync(descriptorPath(), 'utf8')) as protobuf.INamespace;
  const root = protobuf.Root.fromJSON(json);
  const packageDefinition = fromJSON(json, MESSAGE_SHAPE);
  loaded = {
    root,
    packageDefinition,
    type: (name) => root.lookupType(name.includes('.') ? name : `${PACKAGE}.${name}`),
  };
  return loaded;
}
