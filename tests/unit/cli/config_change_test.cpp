// config_changes / accept_changes (src/cli/config_change.cpp): what a resume may
// find changed in the run config, and the one error listing what it refuses.
#include "cli/config_change.hpp"
#include "cli/run_config.hpp"

#include "dtrain/core/error.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace dtrain::cli {
namespace {

using Settings = std::map<std::string, std::string>;

std::string refusal(const std::vector<ConfigChange>& changes, const std::vector<std::string>& allowed,
                    const std::vector<std::string>& overrides = {}) {
  try {
    accept_changes(changes, allowed, overrides, "runs/x/ckpt-000200.h5");
  } catch (const ArgumentError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigChange, ListsChangedAddedAndRemovedKeysButNotOperationalOnes) {
  const Settings saved{{"seed", "1"}, {"data.batch_size", "64"}, {"threads", "2"}, {"checkpoint.keep", "3"},
                       {"model.layers[1].rate", "0.1"}, {"fit.verbose", "1"}};
  const Settings now{{"seed", "1"}, {"data.batch_size", "128"}, {"threads", "8"}, {"checkpoint.keep", "5"},
                     {"model.layers[2].units", "10"}, {"fit.verbose", "2"}};
  const auto changes = config_changes(saved, now);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(describe(changes[0]), "data.batch_size: 64 (checkpoint) → 128 (config)");
  EXPECT_EQ(describe(changes[1]), "model.layers[1].rate: 0.1 (checkpoint) → (not set) (config)");
  EXPECT_EQ(describe(changes[2]), "model.layers[2].units: (not set) (checkpoint) → 10 (config)");
}

TEST(ConfigChange, RefusesEveryChangeNotAllowedInOneMessage) {
  const std::vector<ConfigChange> changes{{"data.batch_size", "64", "128"}, {"seed", "1", "2"}};
  EXPECT_EQ(refusal(changes, {}, {"data.batch_size=128"}),
            "the config differs from the one ckpt-000200.h5 was trained with: data.batch_size: 64 (checkpoint) → "
            "128 (--set data.batch_size=128); seed: 1 (checkpoint) → 2 (config); resume with --allow-change KEY "
            "for each key to accept it, or start over with --fresh");
  EXPECT_NE(refusal(changes, {"seed"}).find("data.batch_size"), std::string::npos);
  EXPECT_EQ(refusal(changes, {"seed"}).find("seed:"), std::string::npos);
  EXPECT_EQ(refusal(changes, {"seed", "data"}), "");  // a prefix allows the keys under it
  EXPECT_NE(refusal(changes, {"seed", "data.batch"}), "");  // ... at a key boundary only
}

TEST(ConfigChange, EpochsMayGrowButNotShrinkWithoutTheFlag) {
  EXPECT_EQ(refusal({{"fit.epochs", "3", "10"}}, {}), "");
  EXPECT_NE(refusal({{"fit.epochs", "10", "3"}}, {}), "");
  EXPECT_EQ(refusal({{"fit.epochs", "10", "3"}}, {"fit.epochs"}), "");
  const auto accepted = accept_changes({{"fit.epochs", "3", "10"}, {"seed", "1", "2"}}, {"seed"}, {}, "c.h5");
  EXPECT_EQ(accepted.size(), 2u);
}

TEST(ConfigChange, TheOptimizerAndLayerTypesNeverChange) {
  EXPECT_NE(refusal({{"compile.optimizer.name", "adam", "sgd"}}, {"compile.optimizer"})
                .find("cannot resume from ckpt-000200.h5 with another optimizer or layer type"),
            std::string::npos);
  EXPECT_NE(refusal({{"model.layers[3].type", "Dense", "Dropout"}}, {"model"}), "");
  EXPECT_EQ(refusal({{"model.layers[3].activation", "relu", "tanh"}}, {"model.layers[3]"}), "");
}

TEST(ConfigChange, SettingsRoundTripThroughJson) {
  const Settings s{{"compile.optimizer.learning_rate", "0.0005"}, {"model.layers[0].type", "Dense"}};
  EXPECT_EQ(settings_from_json(settings_json(s), "x.h5"), s);
  EXPECT_THROW(settings_from_json("[1, 2]", "x.h5"), ArgumentError);
  EXPECT_EQ(setting_text(0.0005), "0.0005");
  EXPECT_EQ(setting_text(0.001), "0.001");
  EXPECT_EQ(setting_text(1e-9), "1e-09");
}

}  // namespace
}  // namespace dtrain::cli
