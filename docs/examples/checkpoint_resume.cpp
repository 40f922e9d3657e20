// Train, checkpoint, stop, resume, with the library alone: the run that was
// stopped mid-epoch and resumed ends with the very bits of an uninterrupted one.
//
//   docs/examples/checkpoint_resume RUN_DIR
//
// Built and run by the tests (ctest -R example_checkpoint_resume).
#include "dtrain/layers/core.hpp"
#include "dtrain/losses.hpp"
#include "dtrain/model.hpp"
#include "dtrain/model/model_checkpoint.hpp"
#include "dtrain/optimizers/factory.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>

using namespace dtrain;

namespace {

constexpr std::int64_t kEpochs = 4;

// 256 points of two interleaved spirals: x [256, 2], y [256] class ids.
void spirals(Tensor& x, Tensor& y) {
  x = Tensor(Shape{256, 2});
  y = Tensor(Shape{256});
  for (std::int64_t i = 0; i < 256; ++i) {
    const double t = 0.05 * static_cast<double>(i / 2), turn = (i % 2) * M_PI;
    x.data()[2 * i] = static_cast<float>(t * std::cos(t + turn) / 6);
    x.data()[2 * i + 1] = static_cast<float>(t * std::sin(t + turn) / 6);
    y.data()[i] = static_cast<float>(i % 2);
  }
}

Model make_model() {
  auto model = Sequential({2}, {layers::Dense({.units = 32, .activation = "tanh"}),
                                layers::Dense({.units = 32, .activation = "tanh"}), layers::Dense({.units = 2})},
                          "spirals", /*seed=*/7);
  model.compile({.optimizer = optimizers::make_optimizer<float>("adam", {{"learning_rate", 0.01}}),
                 .loss = losses::parse_loss("sparse_categorical_crossentropy"),
                 .metrics = {"accuracy"}});
  return model;
}

// What a preemption does: ask fit to stop after this step.
class StopAtStep final : public Callback {
 public:
  explicit StopAtStep(std::int64_t step) : step_(step) {}
  std::string name() const override { return "StopAtStep"; }
  void on_train_batch_end(std::int64_t, const Logs&) override {
    if (model_->global_step() == step_) model_->interrupted = true;
  }

 private:
  std::int64_t step_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: checkpoint_resume RUN_DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::remove_all(dir);
  Tensor x, y;
  spirals(x, y);
  ArrayBatchSource data(x, y, {.batch_size = 32, .shuffle = true, .seed = 3});  // 8 steps an epoch

  // 1. The reference: four epochs in one go.
  auto reference = make_model();
  reference.fit(data, {.epochs = kEpochs, .verbose = 0});

  // 2. The same run, stopped in the middle of the second epoch (step 13 of 32):
  //    ModelCheckpoint writes the exact position before fit returns.
  {
    auto model = make_model();
    auto checkpoint = std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.directory = dir.string()});
    model.fit(data, {.epochs = kEpochs, .callbacks = {std::make_shared<StopAtStep>(13), checkpoint}, .verbose = 0});
    std::cout << "stopped at step " << model.global_step() << ", checkpoint " << checkpoint->last_path() << "\n";
  }

  // 3. A new process would do this: build and compile the model, resume from
  //    the newest checkpoint of the run directory, fit the rest.
  auto model = make_model();
  auto checkpoint = std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.directory = dir.string()});
  const auto at = checkpoint->resume(model);
  if (!at) {
    std::cerr << "no checkpoint in " << dir << "\n";
    return 1;
  }
  std::cout << "resumed from " << at->path << ": epoch " << at->epoch + 1 << ", step " << at->step_in_epoch << "\n";
  model.fit(data, {.epochs = kEpochs, .initial_epoch = at->epoch, .initial_step = at->step_in_epoch,
                   .callbacks = {checkpoint}, .verbose = 0});

  // 4. Bitwise the uninterrupted run.
  const auto a = reference.weights(), b = model.weights();
  const bool same = a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  std::cout << "weights after " << kEpochs << " epochs: " << (same ? "bitwise equal" : "DIFFERENT") << "\n";

  // 5. And read back: the last checkpoint holds the model's config too.
  auto loaded = Model::load(checkpoint->last_path());
  const auto c = loaded.weights();
  const bool loaded_same = c.size() == a.size() && std::memcmp(c.data(), a.data(), a.size() * sizeof(float)) == 0;
  std::cout << "Model::load(" << checkpoint->last_path() << "): '" << loaded.name() << "', " << loaded.count_params()
            << " parameters, step " << loaded.global_step() << ", weights " << (loaded_same ? "equal" : "DIFFERENT")
            << "\n";
  return same && loaded_same && loaded.global_step() == model.global_step() ? 0 : 1;
}
