// The checks of a `dtrain train` run that need the data file, the compiled model
// or the rank count: made in the set-up stage on every rank, before training
// starts and before anything is written, so that a run that cannot work stops
// with exit 2 and one line instead of failing at its first step or epoch end
// (docs/exit-codes.md).
//
//   check_run(cfg, args, model, train->reader().dataset(), comm.size());
//
// Each failure is an ArgumentError naming what to change: the config key (as
// "<config>:<line>: <key>" or "--set NAME=VALUE"), the option, or the output
// layer and the data file.
#pragma once

#include "run_config.hpp"
#include "session.hpp"

#include "dtrain/data/dataset.hpp"
#include "dtrain/model.hpp"

namespace dtrain::cli {

// - --fail-rank is a rank of this job;
// - the loss fits the labels of the data file (class ids [N] or float targets
//   [N, k]) and the last layer's output units fit them (one per class for
//   sparse_categorical_crossentropy, one per target for the others);
// - every `monitor` (EarlyStopping, ReduceLROnPlateau, checkpoint.monitor) is a
//   figure the run will log: loss, each compiled metric, learning_rate, and their
//   val_ versions when data.validation is set.
void check_run(const RunConfig& cfg, const TrainArgs& args, const Model& model, const data::DatasetInfo& data,
               int world_size);

// When the model's input feeds an Embedding: this rank's stripe of x in the
// training and validation splits holds only token ids in [0, input_dim) (the
// error names the layer, the file, the dataset, the row and the value). Ranks
// check disjoint stripes; the caller makes every rank agree.
void check_token_ids(const RunConfig& cfg, const Model& model, const data::DatasetInfo& data, int rank,
                     int world_size);

}  // namespace dtrain::cli
