#include "controller/controller.h"

#include <nlohmann/json.hpp>

namespace arca::controller {
namespace {

std::string NameOf(std::string_view object) {
  nlohmann::json j = nlohmann::json::parse(object, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return "";
  }
  auto meta = j.find("metadata");
  if (meta == j.end() || !meta->is_object()) {
    return "";
  }
  auto name = meta->find("name");
  return name != meta->end() && name->is_string() ? name->get<std::string>() : "";
}

std::string FormatSeconds(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration<double>(d).count()) + "s";
}

}  // namespace

kube::ResourceRef VeleroRef(const std::string& resource, const std::string& namespace_name,
                            const std::string& name) {
  kube::ResourceRef ref;
  ref.gvr = {"velero.io", "v1", resource};
  ref.namespaced = true;
  ref.namespace_name = namespace_name;
  ref.name = name;
  return ref;
}

Controller::Controller(kube::Client& client, kube::ResourceRef collection, Reconciler& reconciler,
                       Clock& clock, Logger& log, ControllerOptions options)
    : client_(client),
      reconciler_(reconciler),
      clock_(clock),
      log_(log),
      options_(std::move(options)),
      namespace_(collection.namespace_name),
      queue_(clock, options_.queue),
      informer_(client, std::move(collection), {}, clock,
                kube::InformerHandlers{
                    .on_add = [this](std::string_view o) { Enqueue(o); },
                    .on_update = [this](std::string_view, std::string_view o) { Enqueue(o); },
                    .on_delete = [this](std::string_view o) { Enqueue(o); },
                },
                options_.informer) {}

Controller::~Controller() { Stop(); }

void Controller::Enqueue(std::string_view object) {
  std::string name = NameOf(object);
  if (!name.empty()) {
    queue_.Add(name);
  }
}

void Controller::Start() {
  log_.Info("Starting controller",
            {{"controller", options_.name}, {"workers", std::to_string(options_.workers)}});
  informer_thread_ = std::thread([this] {
    Status s = informer_.Run(stop_);
    if (!s.ok()) {
      log_.Error("Informer stopped", {{"controller", options_.name}, {"error", s.ToString()}});
    }
  });
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] { Worker(); });
  }
}

void Controller::StopWorkers() {
  queue_.ShutDown();
  for (std::thread& t : workers_) {
    t.join();
  }
  workers_.clear();
}

void Controller::Stop() {
  StopWorkers();
  stop_ = true;
  if (informer_thread_.joinable()) {
    informer_thread_.join();
  }
}

void Controller::Worker() {
  std::string key;
  while (queue_.Get(key)) {
    Process(key);
    queue_.Done(key);
  }
}

bool Controller::ProcessOne() {
  std::string key;
  if (!queue_.TryGet(key)) {
    return false;
  }
  Process(key);
  queue_.Done(key);
  return true;
}

void Controller::Process(const std::string& key) {
  ++reconciles_;
  Result<ReconcileResult> r = reconciler_.Reconcile(key);
  if (!r.ok()) {
    const auto delay = queue_.NextBackoff(key);
    log_.Error("Reconcile failed; retrying", {{"controller", options_.name},
                                              {"name", key},
                                              {"error", r.status().ToString()},
                                              {"retryAfter", FormatSeconds(delay)}});
    queue_.AddRateLimited(key);
    return;
  }
  queue_.Forget(key);
  std::chrono::nanoseconds next = r->requeue_after;
  const bool exists = !informer_.HasSynced() || informer_.Get(namespace_ + "/" + key).has_value();
  if (options_.resync > std::chrono::nanoseconds::zero() && exists &&
      (next <= std::chrono::nanoseconds::zero() || options_.resync < next)) {
    next = options_.resync;
  }
  if (next > std::chrono::nanoseconds::zero()) {
    queue_.AddAfter(key, next);
  }
}

}  // namespace arca::controller
