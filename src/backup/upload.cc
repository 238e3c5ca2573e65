#include "backup/upload.h"

namespace arca::backup {

PipedUpload::PipedUpload(objstore::ObjectStore& store, objstore::ObjectKey key, size_t pipe_bytes)
    : pipe_(pipe_bytes) {
  thread_ = std::thread([this, &store, key = std::move(key)] {
    Status s = store.Put(key, [this](std::span<char> buffer) { return pipe_.Read(buffer); });
    // Unblock a producer waiting on a full pipe when the store gave up early.
    pipe_.Cancel(s.ok() ? CancelledError("the upload ended") : s);
    put_status_ = std::move(s);
  });
}

PipedUpload::~PipedUpload() {
  if (!joined_) {
    Abort(CancelledError("upload abandoned")).IgnoreError();
  }
}

archive::ByteSink PipedUpload::Sink() {
  return [this](std::string_view chunk) { return pipe_.Write(chunk); };
}

Status PipedUpload::Join() {
  if (!joined_) {
    thread_.join();
    joined_ = true;
  }
  return put_status_;
}

Status PipedUpload::Finish() {
  pipe_.Close(OkStatus());
  return Join();
}

Status PipedUpload::Abort(Status why) {
  if (why.ok()) {
    why = CancelledError("upload aborted");
  }
  pipe_.Close(why);
  Join().IgnoreError();
  return why;
}

}  // namespace arca::backup
