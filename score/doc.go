// Package score runs batch scoring jobs: it streams the rows of an input
// file of any size through a model and writes the predictions, in input
// order, to an output file.
//
// A Job reads batches of rows (Reader), scores them on N workers that
// share the model's compiled plan (each worker has its own tfd.Runner and
// writes into output tensors recycled from batches already written), and
// writes the results in order. The pipeline is bounded: at
// most Job.InFlight batches exist between reading and writing, so memory
// stays proportional to the batch size, not to the input.
//
// Inputs (Format): .npy (one file per model input, memory-mapped on Linux
// with batches as views of the mapping, otherwise read in chunks of rows;
// never whole), .npz (one array per input), CSV (a header row maps columns
// to inputs), JSON Lines (one TensorFlow Serving "instance" per line) and
// TFRecord files of serialized tf.train.Example (features mapped to inputs
// by name). CSV, JSON Lines and TFRecord inputs may be gzip-compressed.
// Outputs come in the same formats.
//
// Inputs are matched to the model's signature (for a frozen graph: its
// placeholders, keyed by node name). In row formats a value that cannot be
// parsed or has the wrong width makes the row bad: the job stops with the
// file, line or record and the reason (a *RowError), or, with
// Job.SkipBadRows, counts it and writes it to a reject file.
//
// Outputs are written to work files in a hidden directory of the output
// directory and renamed into place only when the job succeeds, so an
// interrupted or failed job never leaves a truncated result under the
// final names. The job records its progress in a side file there; a job
// run again with Job.Resume continues after the last rows written.
//
// For records that come from elsewhere (a distributed pipeline, a queue),
// RecordDecoder, Runner and EncodeRecords do a job's parsing, running and
// encoding one batch at a time, with the same results.
//
// Imports: tfd (the facade), tensor, internal/npy, internal/tfrecord and
// internal/example. Concurrency: a Job runs its own goroutines (one
// reader, N workers, the writer in the calling goroutine) and keeps no
// global state; Readers and RecordDecoders are used by one goroutine at a
// time; a Runner is safe for concurrent use. The library writes nothing
// to stdout; progress goes to the Progress the caller passes.
package score
