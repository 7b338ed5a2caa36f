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
