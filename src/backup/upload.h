// File: backup/upload.h
//
// PipedUpload streams bytes produced on the calling thread (the tarball writer's output) into an
// ObjectStore::Put running on a thread of its own, through a bounded BytePipe: memory stays at
// the pipe's capacity plus the store's own part buffers, whatever the object's size.
//
// The object is committed only when Finish() succeeds. After Abort(), or when the producer's
// error reaches Put through the pipe, the store discards the partial upload (ObjectStore::Put
// writes an object whole or not at all).
#pragma once

#include <thread>

#include "archive/tar.h"
#include "common/pipe.h"
#include "common/status.h"
#include "objstore/object_store.h"

namespace arca::backup {

class PipedUpload {
 public:
  // Starts the upload of `key`. `store` must outlive this object.
  PipedUpload(objstore::ObjectStore& store, objstore::ObjectKey key, size_t pipe_bytes);
  ~PipedUpload();
  PipedUpload(const PipedUpload&) = delete;
  PipedUpload& operator=(const PipedUpload&) = delete;

  // Where the producer writes. A write fails once the upload has failed (its error is returned),
  // so the producer stops early instead of compressing for nothing.
  archive::ByteSink Sink();
  // Ends the data and waits for the store; returns Put's status.
  Status Finish();
  // Ends the upload with `why` as the producer's error; the store keeps nothing. Returns `why`.
  Status Abort(Status why);

 private:
  Status Join();

  BytePipe pipe_;
  Status put_status_;
  std::thread thread_;
  bool joined_ = false;
};

}  // namespace arca::backup
