// Where each part of a CheckpointState lives in the file (docs/checkpoint-format.md).
// Private to src/checkpoint; shared by the writer, the reader and the summary.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dtrain/checkpoint.hpp"

namespace dtrain::checkpoint::detail {

inline constexpr const char* kModelGroup = "/model";
inline constexpr const char* kModelConfig = "/model/config";
inline constexpr const char* kWeightNames = "/model/weight_names";
inline constexpr const char* kWeightsPrefix = "/model/weights/";
inline constexpr const char* kOptimizerGroup = "/optimizer";
inline constexpr const char* kOptimizerConfig = "/optimizer/config";
inline constexpr const char* kSlotNames = "/optimizer/slot_names";
inline constexpr const char* kSlotsPrefix = "/optimizer/slots/";
inline constexpr const char* kGlobalNames = "/optimizer/global_names";
inline constexpr const char* kGlobalsPrefix = "/optimizer/global/";
inline constexpr const char* kProgressGroup = "/progress";
inline constexpr const char* kRngGroup = "/progress/rng";
inline constexpr const char* kCallbackNames = "/callbacks/names";
inline constexpr const char* kCallbackStates = "/callbacks/states";
inline constexpr const char* kMetricStatesGroup = "/metric_states";
inline constexpr const char* kHistoryGroup = "/history";
inline constexpr const char* kRunConfig = "/run_config";  // optional text
inline constexpr const char* kChecksumAttr = "checksum";    // root, uint64
inline constexpr const char* kArrayChecksumAttr = "xxh64";  // on each array, uint64

// XXH64 of each weight's, slot's and global's bytes, in state order.
struct ArrayHashes {
  std::vector<std::uint64_t> weights, slots, globals;
};
ArrayHashes hash_arrays(const CheckpointState& state);

// The checksum of the whole state (every field, arrays through their hashes), in a
// canonical byte stream: the same value on save and on load of the same content.
// `created` stands for state.created (the writer fills an empty one in).
std::uint64_t state_checksum(const CheckpointState& state, const std::string& created,
                             const ArrayHashes& hashes);

// Root attributes only: cheap, no data read, no checksum check. Throws
// CheckpointError (no path prefix) for a file that is not a readable checkpoint.
struct Header {
  std::int64_t step = 0;
  std::string created;  // "" if the attribute is missing
  std::optional<MonitorValue> monitor;
};
Header read_header(const std::string& path);

// load_checkpoint without the "<path>: " prefix on errors.
CheckpointState load_unprefixed(const std::string& path);

std::string hex64(std::uint64_t v);  // "0x0123456789abcdef"

}  // namespace dtrain::checkpoint::detail
