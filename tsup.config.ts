import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'transports/memory': 'transports/memory.ts',
    'transports/tcp': 'transports/tcp.ts',
    'transports/input-buffer': 'transports/input-buffer.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
});
