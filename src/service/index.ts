// The local socket service that exposes the driver: framing, endpoints, access.
export * from './framing.js';
export * from './server.js';
export * from './paths.js';
