import test from 'ava';
// @ts-expect-error plain ESM script without types
import { decideCuda, parseCudaSetting } from '../../scripts/lib/build-config.mjs';

const probes = (gpus: string[], nvcc: boolean) => ({ gpus: () => gpus, nvcc: () => nvcc });
const GPU = ['GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-x)'];

test('nvcc alone does not start a CUDA build', (t) => {
  t.false(decideCuda({}, probes([], true)).cuda);
});

test('a visible GPU and nvcc choose CUDA; a GPU without nvcc does not', (t) => {
  t.true(decideCuda({}, probes(GPU, true)).cuda);
  const d = decideCuda({}, probes(GPU, false));
  t.false(d.cuda);
  t.regex(d.reason, /nvcc is not found/);
});

test('MFNER_CUDA forces either way', (t) => {
  t.true(decideCuda({ MFNER_CUDA: 'ON' }, probes([], false)).cuda);
  t.true(decideCuda({ MFNER_CUDA: '1' }, probes([], false)).cuda);
  t.false(decideCuda({ MFNER_CUDA: '0' }, probes(GPU, true)).cuda);
  t.false(decideCuda({ MFNER_CUDA: 'off' }, probes(GPU, true)).cuda);
  t.is(parseCudaSetting(''), undefined);
  t.throws(() => parseCudaSetting('maybe'), { message: /MFNER_CUDA must be/ });
});

test('a missing cmake, compiler or git is named with the command that installs it', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const path = await import('node:path');
  const root = path.resolve(import.meta.dirname, '../..');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', "import('./scripts/lib/build.mjs').then((m) => m.checkTools()).catch((e) => { console.log(e.message); })"], {
    cwd: root,
    env: { PATH: '/nonexistent' },
    encoding: 'utf8',
  });
  t.regex(r.stdout, /missing:/);
  t.regex(r.stdout, /cmake \(Debian\/Ubuntu: apt-get install cmake/);
  t.regex(r.stdout, /a C\+\+17 compiler \(Debian\/Ubuntu: apt-get install g\+\+/);
  t.regex(r.stdout, /git \(/);
});
