// Package objects finds the files and S3 objects that flow logs arrive
// in and hands each to a Handler until it has been read whole, once.
//
// Sources are local paths (files, directories read recursively, glob
// patterns), optionally followed as files appear, and S3 buckets (AWS or
// any store that speaks its API) polled by prefix. A bounded number of
// objects are read at once.
//
// An object is recorded in the checkpoint file only after its handler
// returned nil, and an object so recorded is never handed over again. A
// crash while an object is read leaves it unrecorded, so the next run
// reads it again from its start; as flow-log records get ids derived from
// the object and their place in it, and the store keeps one record per
// id, the records are stored exactly once. A handler error is retried
// with a doubling backoff; after Config.Retries the object is given up:
// reported to Deps.OnError, counted, left unrecorded (so the next run
// tries it again) and not tried again in this run.
//
// For S3 the checkpoint keeps, per bucket and prefix, a position such
// that every key up to it was read or given up (listings start after it),
// the keys read above it and the keys given up. Because keys do not appear
// in key order, the position passes a key only once the key was modified
// Config.ReorderWindow before a listing that saw it started; a key that
// appears more than ReorderWindow after a key sorting above it was
// written is missed.
//
// For local files the checkpoint keeps each file's size and modification
// time; a file that changes after it was read is read again, whole.
package objects
