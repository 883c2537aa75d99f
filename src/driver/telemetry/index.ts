// 5A telemetry: the event model and codecs, the shared-memory ring, its IOCTL wire forms, the journal.
export * from './events.js';
export * from './ring.js';
export * from './snapshot.js';
export * from './journal.js';
export * from './ring-config.js';
