// The checkpoint checksum: XXH64 over a canonical serialisation of the state.
// Strings are length-prefixed, numbers are their 8 little-endian bytes (doubles by
// bit pattern), arrays enter through their own XXH64, so changing, moving,
// dropping or adding any stored value changes the checksum.
#include <bit>
#include <cstdio>

#include "layout.hpp"
#include "core/xxh64.hpp"

namespace dtrain::checkpoint::detail {
namespace {

class Stream {
 public:
  void u64(std::uint64_t v) { h_.update(&v, sizeof v); }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
  void str(const std::string& s) {
    u64(s.size());
    h_.update(s);
  }
  void shape(const std::vector<std::int64_t>& s) {
    u64(s.size());
    for (auto d : s) i64(d);
  }
  void doubles(const std::vector<double>& v) {
    u64(v.size());
    u64(xxh64(v.data(), v.size() * sizeof(double)));
  }
  std::uint64_t digest() const { return h_.digest(); }

 private:
  Xxh64 h_;
};

std::uint64_t bytes_hash(const std::vector<float>& v) { return xxh64(v.data(), v.size() * sizeof(float)); }

void slots(Stream& s, const std::vector<Slot>& list, const std::vector<std::uint64_t>& hashes) {
  s.u64(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    s.str(list[i].name);
    s.shape(list[i].shape);
    s.u64(hashes.at(i));
  }
}

}  // namespace

ArrayHashes hash_arrays(const CheckpointState& state) {
  ArrayHashes h;
  for (const auto& w : state.model.weights) h.weights.push_back(bytes_hash(w.data));
  for (const auto& v : state.optimizer.slots) h.slots.push_back(bytes_hash(v.data));
  for (const auto& v : state.optimizer.globals) h.globals.push_back(bytes_hash(v.data));
  return h;
}

std::uint64_t state_checksum(const CheckpointState& st, const std::string& created,
                             const ArrayHashes& hashes) {
  Stream s;
  s.str(st.format);
  s.i64(st.format_version);
  s.str(created);
  s.str(st.dtrain_version);

  s.str(st.model.name);
  s.u64(st.model.seed);
  s.str(st.model.config_json);
  s.u64(st.model.weights.size());
  for (std::size_t i = 0; i < st.model.weights.size(); ++i) {
    const auto& w = st.model.weights[i];
    s.str(w.name);
    s.shape(w.shape);
    s.u64(w.trainable ? 1 : 0);
    s.u64(hashes.weights.at(i));
  }

  const auto& o = st.optimizer;
  s.str(o.name);
  s.str(o.config_json);
  s.i64(o.iterations);
  s.f64(o.learning_rate);
  slots(s, o.slots, hashes.slots);
  slots(s, o.globals, hashes.globals);

  const auto& p = st.progress;
  s.i64(p.global_step);
  s.i64(p.epoch);
  s.i64(p.step_in_epoch);
  s.u64(p.seed);
  s.u64(p.rng.size());
  for (const auto& [k, v] : p.rng) {
    s.str(k);
    s.i64(v);
  }
  s.i64(p.world_size);
  s.i64(p.threads);
  s.str(p.dataset_fingerprint);
  if (!p.dataset.empty()) s.str(p.dataset);  // absent from older checkpoints: their digests stay

  s.u64(st.callbacks.size());
  for (const auto& c : st.callbacks) {
    s.str(c.name);
    s.str(c.json);
  }
  s.u64(st.metric_states.size());
  for (const auto& [k, v] : st.metric_states) {
    s.str(k);
    s.doubles(v);
  }
  s.u64(st.history.columns.size());
  for (const auto& c : st.history.columns) s.str(c);
  s.u64(st.history.rows.size());
  for (const auto& r : st.history.rows) s.doubles(r);

  s.u64(st.monitor ? 1 : 0);
  if (st.monitor) {
    s.str(st.monitor->name);
    s.f64(st.monitor->value);
  }
  if (!st.run_config.empty()) s.str(st.run_config);  // absent from older files: their checksums stay valid
  return s.digest();
}

std::string hex64(std::uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace dtrain::checkpoint::detail
