// dtrain evaluate CKPT --data FILE and dtrain predict CKPT --input FILE -o OUT.h5:
// a model rebuilt from a checkpoint, on any number of ranks.
#include "commands.hpp"
#include "errors.hpp"

#include "dtrain/checkpoint.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/data/predictions.hpp"
#include "dtrain/distributed/communicator.hpp"
#include "dtrain/model.hpp"
#include "dtrain/model/hdf5_batch_source.hpp"


#include <filesystem>
#include <iostream>
#include <optional>

namespace dtrain::cli {
namespace {

struct EvalArgs {
  std::string checkpoint, data, split = "test", output;
  std::int64_t batch_size = 256;
  bool force = false;
};

int evaluate(const EvalArgs& a) {
  distributed::Communicator comm;
  std::optional<Model> model;
  std::optional<Hdf5BatchSource> source;
  // The checkpoint and the data: each rank reads its part; all agree on errors.
  if (const auto code = agreed(comm, [&] {
        model.emplace(Model::load(a.checkpoint));
        model->set_communicator(&comm);
        data::ShardReaderOptions o;
        o.path = a.data;
        o.split = a.split;
        o.global_batch = a.batch_size;
        o.rank = comm.rank();
        o.world_size = comm.size();
        o.shuffle = false;
        source.emplace(o);
      })) {
    return *code;
  }
  try {
    const auto logs = model->evaluate(*source);
    if (comm.rank() == 0) {
      std::cout << "Test (" << source->rows() << " samples of " << a.data << " /" << a.split
                << "): " << format_logs(logs) << std::endl;
    }
    return kExitOk;
  } catch (const std::exception& e) {
    return end_run(comm, e);
  }
}

int predict(const EvalArgs& a) {
  // One writer of one file: under mpiexec -n 3 every rank would compute
  // everything and write the same temporary.
  distributed::Communicator comm;
  if (comm.size() > 1) {
    if (comm.rank() == 0) {
      std::cerr << "dtrain: error: predict runs on one rank, got " << comm.size()
                << " (run it without mpiexec, or with -n 1)\n";
    }
    return kExitUsage;
  }
  auto model = Model::load(a.checkpoint);
  data::ShardReaderOptions o;
  o.path = a.data;
  o.split = a.split;
  o.global_batch = a.batch_size;
  o.shuffle = false;
  Hdf5BatchSource source(o);
  Shape xs = model.input_shape();
  xs[0] = source.rows();
  Tensor x(xs);
  source.start_epoch(0);
  std::int64_t at = 0;
  for (std::int64_t s = 0; s < source.steps_per_epoch(); ++s) {
    const Batch& b = source.next();
    std::copy(b.x.data, b.x.data + b.x.size(), x.data() + at);
    at += b.x.size();
  }
  const auto p = model.predict(x, a.batch_size);
  data::write_predictions(a.output, p, a.force);
  std::cout << "Wrote " << p.shape().str() << " predictions to " << a.output << ":/predictions\n";
  return kExitOk;
}

}  // namespace

void register_evaluate_commands(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  auto* ev = app.add_subcommand("evaluate", "Loss and metrics of a checkpoint on a dataset split: on any number of ranks, each evaluating its part; the figures are the same for any rank count");
  ev->add_option("checkpoint", args->checkpoint, "A checkpoint file (ckpt-*.h5)")->required()->check(CLI::ExistingFile);
  ev->add_option("--data", args->data, "The HDF5 dataset")->required();
  ev->add_option("--split", args->split, "The split to evaluate (default: test)");
  ev->add_option("--batch-size", args->batch_size, "Global batch size (default: 256)")->check(CLI::PositiveNumber);
  ev->callback([args] {
    if (const int code = evaluate(*args); code != kExitOk) throw ExitRequest{code};
  });

  auto* pr = app.add_subcommand("predict", "Write a checkpoint's predictions for a dataset split to an HDF5 file (one rank: more than one is refused)");
  pr->add_option("checkpoint", args->checkpoint, "A checkpoint file (ckpt-*.h5)")->required()->check(CLI::ExistingFile);
  pr->add_option("--input", args->data, "The HDF5 dataset")->required();
  pr->add_option("--split", args->split, "The split to predict (default: test)");
  pr->add_option("-o,--output", args->output, "The output file (/predictions [N, outputs])")->required();
  pr->add_option("--batch-size", args->batch_size, "Batch size (default: 256)")->check(CLI::PositiveNumber);
  pr->add_flag("--force", args->force, "Replace an existing output file");
  pr->callback([args] {
    if (const int code = predict(*args); code != kExitOk) throw ExitRequest{code};
  });
}

}  // namespace dtrain::cli
