// runner.mjs is the Node runner of bench/compare: ONNX Runtime
// (onnxruntime-node) and TensorFlow.js with its wasm or cpu backend.
//
//	node runner.mjs --node DIR --peer ort|tfjs-wasm|tfjs-cpu --spec SPEC --threads N
//	                [--warmup W --reps R --budget-ms B --out DIR]
//	node runner.mjs --node DIR --probe
//
// DIR is the npm prefix whose node_modules hold the peers (run.sh installs
// them into bench/compare/cache/node). Same flags and timing protocol as
// the tfd runner (`compare tfd`): warm up with at most W runs (stopping
// once B ms have passed), then time at most R runs, stopping once the timed
// runs took B ms (at least one). Prints one JSON line {peer, workload,
// threads, times_ms, info} and writes the outputs of the last run as
// DIR/out_<k>.npy. A timed run includes reading the outputs back into
// JavaScript arrays (tfd and NumPy return materialised arrays too).
//
// Workloads:
//   - mlp, conv with ort: the ONNX twins that make_onnx.py built (conv in
//     NCHW, fed x_nchw.npy); intraOpNumThreads = N, one inter-op thread,
//     sequential execution, all graph optimisations.
//   - mlp, conv with TF.js: the same graph written with TF.js ops as its
//     converter would fuse it: softmax(fused.matMul(x, W, bias)) and
//     mean(fused.conv2d(x, W, bias, relu, SAME), [1, 2]).
//   - tfjs (human-models): the graph model loaded with tfjs-converter's
//     loadGraphModel from the file system, run with execute() (or
//     executeAsync() when the model has control flow or dynamic ops).
//
// --probe prints {wasm_threads, wasm_simd, versions}: how many threads the
// wasm backend really gets in Node when asked for 2 (setThreadsCount), and
// the installed versions.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

function parseArgs(argv) {
  const opt = { node: '', probe: false, peer: '', spec: '', threads: 1, warmup: 2, reps: 50, budgetMs: 300, out: '' };
  const take = (i, a) => {
    if (i + 1 >= argv.length) throw new Error(`runner.mjs: ${a} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--node': opt.node = take(i, a); i++; break;
      case '--probe': opt.probe = true; break;
      case '--peer': opt.peer = take(i, a); i++; break;
      case '--spec': opt.spec = take(i, a); i++; break;
      case '--threads': opt.threads = Number(take(i, a)); i++; break;
      case '--warmup': opt.warmup = Number(take(i, a)); i++; break;
      case '--reps': opt.reps = Number(take(i, a)); i++; break;
      case '--budget-ms': opt.budgetMs = Number(take(i, a)); i++; break;
      case '--out': opt.out = take(i, a); i++; break;
      default: throw new Error(`runner.mjs: unknown argument ${a}`);
    }
  }
  if (!opt.node) throw new Error('runner.mjs: --node DIR is required');
  return opt;
}

// timeRuns is the timing protocol shared by every runner.
async function timeRuns(opt, run) {
  const now = () => Number(process.hrtime.bigint()) / 1e6;
  const start = now();
  for (let i = 0; i < Math.max(opt.warmup, 1); i++) {
    await run();
    if (now() - start >= opt.budgetMs) break;
  }
  const times = [];
  let total = 0;
  while (times.length < Math.max(opt.reps, 1) && (times.length === 0 || total < opt.budgetMs)) {
    const t0 = now();
    await run();
    const d = now() - t0;
    times.push(d);
    total += d;
  }
  return times;
}

// ---- .npy ----

const NPY_TYPES = {
  '<f4': ['float32', Float32Array, 4],
  '<i4': ['int32', Int32Array, 4],
  '|b1': ['bool', Uint8Array, 1],
  '|u1': ['int32', Uint8Array, 1],
};

// readNPY returns {dtype, shape, data} of a C-order .npy file.
function readNPY(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not an .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const off = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', off, off + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order not supported`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const t = NPY_TYPES[descr];
  if (!t) throw new Error(`${file}: dtype ${descr} not supported (supported: ${Object.keys(NPY_TYPES).join(', ')})`);
  const [dtype, Arr, size] = t;
  const n = shape.reduce((a, b) => a * b, 1);
  const start = off + hlen;
  const bytes = new Uint8Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + n * size));
  let data = new Arr(bytes.buffer);
  if (Arr === Uint8Array && dtype === 'int32') data = Int32Array.from(data);
  return { dtype, shape, data };
}

// writeNPY writes float32, int32 or bool data as a C-order .npy file.
function writeNPY(file, dtype, shape, data) {
  const descr = { float32: '<f4', int32: '<i4', bool: '|b1' }[dtype];
  if (!descr) throw new Error(`npy: dtype ${dtype} not supported`);
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shp}, }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header + ' '.repeat(total - 10 - header.length - 1) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  let body;
  if (dtype === 'float32') body = Buffer.from(Float32Array.from(data).buffer);
  else if (dtype === 'int32') body = Buffer.from(Int32Array.from(data).buffer);
  else body = Buffer.from(Uint8Array.from(data, (v) => (v ? 1 : 0)).buffer);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

// ---- peers ----

function loadTF(require, backend) {
  // Quiet tfjs-core's hint about tfjs-node.
  const log = console.log;
  console.log = () => {};
  const tf = require('@tensorflow/tfjs-core');
  require('@tensorflow/tfjs-backend-cpu');
  const wasm = backend === 'wasm' ? require('@tensorflow/tfjs-backend-wasm') : null;
  console.log = log;
  const warn = console.warn;
  console.warn = (...a) => {
    if (typeof a[0] === 'string' && a[0].startsWith('This model execution did not contain any nodes with control flow')) return;
    warn(...a);
  };
  return { tf, wasm };
}

async function probe(require) {
  const { tf, wasm } = loadTF(require, 'wasm');
  wasm.setThreadsCount(2);
  if (!(await tf.setBackend('wasm'))) throw new Error('runner.mjs: the TF.js wasm backend did not initialise');
  await tf.ready();
  const versions = {};
  for (const p of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-converter', 'onnxruntime-node']) {
    versions[p] = require(`${p}/package.json`).version;
  }
  versions.node = process.version;
  // Loading onnxruntime-node checks that its native binding works here.
  require('onnxruntime-node');
  return {
    wasm_threads: wasm.getThreadsCount(),
    wasm_simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
    versions,
  };
}

// ortRunner returns an async run() returning [{dtype, shape, data}].
async function ortRunner(require, spec, opt, info) {
  const ort = require('onnxruntime-node');
  info['version:onnxruntime-node'] = require('onnxruntime-node/package.json').version;
  const session = await ort.InferenceSession.create(spec.onnx, {
    intraOpNumThreads: opt.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  let file = spec.inputs[0].file;
  if (spec.kind === 'conv') file = path.join(path.dirname(spec.onnx), 'x_nchw.npy');
  else if (spec.kind !== 'mlp') throw new Error(`runner.mjs: ort has no runner for workload kind ${spec.kind}`);
  const x = readNPY(file);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) };
  return async () => {
    const r = await session.run(feeds);
    return session.outputNames.map((n) => ({ dtype: 'float32', shape: r[n].dims.map(Number), data: r[n].data }));
  };
}

// fileHandler is a tf.io.IOHandler reading a TF.js graph model and its
// weight shards from the file system.
function fileHandler(tf, jsonPath) {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = [];
        const buffers = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const b = fs.readFileSync(path.join(path.dirname(jsonPath), p));
            buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
          }
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

async function readOutputs(tf, ts) {
  const out = [];
  for (const t of ts) out.push({ dtype: t.dtype, shape: t.shape, data: await t.data() });
  tf.dispose(ts);
  return out;
}

async function tfjsRunner(require, spec, opt, info, backend) {
  const { tf, wasm } = loadTF(require, backend);
  if (wasm) wasm.setThreadsCount(opt.threads);
  if (!(await tf.setBackend(backend))) throw new Error(`runner.mjs: the TF.js ${backend} backend did not initialise`);
  await tf.ready();
  tf.enableProdMode();
  info['version:@tensorflow/tfjs-core'] = require('@tensorflow/tfjs-core/package.json').version;
  if (wasm) info.wasm_threads = String(wasm.getThreadsCount());
  const npyTensor = (file) => {
    const v = readNPY(file);
    return tf.tensor(v.data, v.shape, v.dtype);
  };
  if (spec.kind === 'mlp') {
    const W = npyTensor(spec.params.W);
    const b = npyTensor(spec.params.b);
    const x = npyTensor(spec.inputs[0].file);
    return async () => readOutputs(tf, [tf.tidy(() => tf.softmax(tf.fused.matMul({ a: x, b: W, bias: b })))]);
  }
  if (spec.kind === 'conv') {
    const W = npyTensor(spec.params.W);
    const b = npyTensor(spec.params.b);
    const x = npyTensor(spec.inputs[0].file);
    return async () => readOutputs(tf, [tf.tidy(() => tf.mean(tf.fused.conv2d({ x, filter: W, strides: 1, pad: 'same', bias: b, activation: 'relu' }), [1, 2]))]);
  }
  if (spec.kind !== 'tfjs') throw new Error(`runner.mjs: TF.js has no runner for workload kind ${spec.kind}`);
  const tfc = require('@tensorflow/tfjs-converter');
  const model = await tfc.loadGraphModel(fileHandler(tf, spec.model));
  const feeds = {};
  for (const inp of spec.inputs) feeds[inp.name] = npyTensor(inp.file);
  const names = spec.outputs.map((o) => o.name);
  let sync = true;
  try {
    tf.dispose(model.execute(feeds, names));
  } catch (err) {
    if (!/executeAsync|dynamic|control flow/i.test(String(err && err.message))) throw err;
    sync = false;
  }
  info.execute = sync ? 'execute' : 'executeAsync';
  return async () => {
    let r = sync ? model.execute(feeds, names) : await model.executeAsync(feeds, names);
    if (!Array.isArray(r)) r = [r];
    return readOutputs(tf, r);
  };
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const require = createRequire(path.join(path.resolve(opt.node), 'package.json'));
  if (opt.probe) {
    console.log(JSON.stringify(await probe(require)));
    return;
  }
  const spec = JSON.parse(fs.readFileSync(opt.spec, 'utf8'));
  const info = {};
  let run;
  switch (opt.peer) {
    case 'ort': run = await ortRunner(require, spec, opt, info); break;
    case 'tfjs-wasm': run = await tfjsRunner(require, spec, opt, info, 'wasm'); break;
    case 'tfjs-cpu': run = await tfjsRunner(require, spec, opt, info, 'cpu'); break;
    default: throw new Error(`runner.mjs: unknown peer ${opt.peer} (peers: ort, tfjs-wasm, tfjs-cpu)`);
  }
  let last = [];
  const times = await timeRuns(opt, async () => { last = await run(); });
  if (opt.out) {
    fs.mkdirSync(opt.out, { recursive: true });
    last.forEach((o, k) => writeNPY(path.join(opt.out, `out_${k}.npy`), o.dtype, o.shape, o.data));
  }
  console.log(JSON.stringify({ peer: opt.peer, workload: spec.name, threads: opt.threads, times_ms: times, info }));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exitCode = 1;
});
