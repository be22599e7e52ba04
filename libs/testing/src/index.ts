export * from './frame-collector.ts';
export * from './free-port.ts';
export * from './http-client.ts';
export * from './managed-process.ts';
export * from './socketio-client.ts';
export * from './sse-client.ts';
export * from './test-cluster.ts';
export * from './ws-client.ts';
