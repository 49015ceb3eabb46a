import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'transports/memory': 'transports/memory.ts',
    'transports/tcp': 'transports/tcp.ts',
    'transports/input-buffer': 'transports/input-buffer.ts',
    'transports/ipc': 'transports/ipc.ts',
    'transports/serial': 'transports/serial.ts',
    'transports/websocket': 'transports/websocket.ts',
    'transports/timeouts': 'transports/timeouts.ts',
    'transports/channel': 'transports/channel.ts',
    node: 'node/index.ts',
    'testing/index': 'src/testing/index.ts',
  },
  // import.meta.url (used to load sodium-native) needs a shim in the CommonJS build.
  shims: true,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
});
