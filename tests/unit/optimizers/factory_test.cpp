// The factory (Keras names, case-insensitive; options by Keras argument name),
// the Keras 3 defaults of every optimizer read back through config(), and the
// errors that name the bad argument.
#include "dtrain/core/error.hpp"
#include "dtrain/optimizers/adadelta.hpp"
#include "dtrain/optimizers/adagrad.hpp"
#include "dtrain/optimizers/adam.hpp"
#include "dtrain/optimizers/adamax.hpp"
#include "dtrain/optimizers/adamw.hpp"
#include "dtrain/optimizers/factory.hpp"
#include "dtrain/optimizers/ftrl.hpp"
#include "dtrain/optimizers/lion.hpp"
#include "dtrain/optimizers/nadam.hpp"
#include "dtrain/optimizers/rmsprop.hpp"
#include "dtrain/optimizers/sgd.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>

namespace dtrain::optimizers {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ArgumentError& e) {
    return e.what();
  }
  return "no ArgumentError";
}

// Keras 3 defaults (keras/src/optimizers/<name>.py __init__ signatures).
const std::map<std::string, Options>& keras_defaults() {
  static const std::map<std::string, Options> d = {
      {"sgd", {{"learning_rate", 0.01}, {"momentum", 0.0}, {"nesterov", false}}},
      {"rmsprop",
       {{"learning_rate", 0.001}, {"rho", 0.9}, {"momentum", 0.0}, {"epsilon", 1e-7},
        {"centered", false}}},
      {"adam",
       {{"learning_rate", 0.001}, {"beta_1", 0.9}, {"beta_2", 0.999}, {"epsilon", 1e-7},
        {"amsgrad", false}}},
      {"adamw",
       {{"learning_rate", 0.001}, {"weight_decay", 0.004}, {"beta_1", 0.9}, {"beta_2", 0.999},
        {"epsilon", 1e-7}, {"amsgrad", false}}},
      {"adagrad", {{"learning_rate", 0.001}, {"initial_accumulator_value", 0.1},
                   {"epsilon", 1e-7}}},
      {"adadelta", {{"learning_rate", 0.001}, {"rho", 0.95}, {"epsilon", 1e-7}}},
      {"adamax",
       {{"learning_rate", 0.001}, {"beta_1", 0.9}, {"beta_2", 0.999}, {"epsilon", 1e-7}}},
      {"nadam",
       {{"learning_rate", 0.001}, {"beta_1", 0.9}, {"beta_2", 0.999}, {"epsilon", 1e-7}}},
      {"ftrl",
       {{"learning_rate", 0.001}, {"learning_rate_power", -0.5},
        {"initial_accumulator_value", 0.1}, {"l1_regularization_strength", 0.0},
        {"l2_regularization_strength", 0.0}, {"l2_shrinkage_regularization_strength", 0.0},
        {"beta", 0.0}}},
      {"lion", {{"learning_rate", 0.001}, {"beta_1", 0.9}, {"beta_2", 0.99}}},
  };
  return d;
}

void expect_defaults(const Optimizer<double>& opt, const std::string& name) {
  const OptimizerConfig c = opt.config();
  EXPECT_EQ(c.name, name);
  EXPECT_EQ(c.options, keras_defaults().at(name)) << name;
  EXPECT_FALSE(c.learning_rate_schedule.has_value());
  EXPECT_EQ(opt.iterations(), 0);
  EXPECT_EQ(opt.learning_rate(), std::get<double>(keras_defaults().at(name).at("learning_rate")));
  // No clipping, and weight decay only for AdamW.
  EXPECT_FALSE(opt.common_options().clipnorm || opt.common_options().clipvalue ||
               opt.common_options().global_clipnorm);
  EXPECT_EQ(opt.common_options().weight_decay.has_value(), name == "adamw");
}

// One test per optimizer: the class constructed with no arguments.
struct DefaultCase {
  const char* name;
  std::function<std::unique_ptr<Optimizer<double>>()> make;
};

const std::vector<DefaultCase>& default_cases() {
  static const std::vector<DefaultCase> c = {
      {"sgd", [] { return std::make_unique<SGD<double>>(); }},
      {"rmsprop", [] { return std::make_unique<RMSprop<double>>(); }},
      {"adam", [] { return std::make_unique<Adam<double>>(); }},
      {"adamw", [] { return std::make_unique<AdamW<double>>(); }},
      {"adagrad", [] { return std::make_unique<Adagrad<double>>(); }},
      {"adadelta", [] { return std::make_unique<Adadelta<double>>(); }},
      {"adamax", [] { return std::make_unique<Adamax<double>>(); }},
      {"nadam", [] { return std::make_unique<Nadam<double>>(); }},
      {"ftrl", [] { return std::make_unique<Ftrl<double>>(); }},
      {"lion", [] { return std::make_unique<Lion<double>>(); }},
  };
  return c;
}

class KerasDefaults : public ::testing::TestWithParam<std::size_t> {};

TEST_P(KerasDefaults, ConfigHasTheKerasDefaults) {
  const auto& c = default_cases()[GetParam()];
  expect_defaults(*c.make(), c.name);
}

INSTANTIATE_TEST_SUITE_P(Defaults, KerasDefaults, ::testing::Range<std::size_t>(0, 10),
                         [](const ::testing::TestParamInfo<std::size_t>& p) {
                           return std::string(default_cases()[p.param].name);
                         });

TEST(Defaults, FactoryWithoutOptionsGivesTheSameDefaults) {
  for (const auto& name : optimizer_names()) expect_defaults(*make_optimizer<double>(name), name);
}

TEST(Defaults, SlotNamesFollowTheOptions) {
  EXPECT_TRUE(SGD<double>().slot_names().empty());
  EXPECT_EQ(SGD<double>({.momentum = 0.9}).slot_names(), std::vector<std::string>{"v"});
  EXPECT_EQ(RMSprop<double>().slot_names(), std::vector<std::string>{"ms"});
  EXPECT_EQ(RMSprop<double>({.momentum = 0.5, .centered = true}).slot_names(),
            (std::vector<std::string>{"ms", "mg", "mom"}));
  EXPECT_EQ(Adam<double>().slot_names(), (std::vector<std::string>{"m", "v"}));
  EXPECT_EQ(Adam<double>({.amsgrad = true}).slot_names(),
            (std::vector<std::string>{"m", "v", "vhat"}));
  EXPECT_EQ(Adagrad<double>().slot_names(), std::vector<std::string>{"acc"});
  EXPECT_EQ(Adadelta<double>().slot_names(), (std::vector<std::string>{"ag", "ad"}));
  EXPECT_EQ(Adamax<double>().slot_names(), (std::vector<std::string>{"m", "u"}));
  EXPECT_EQ(Nadam<double>().slot_names(), (std::vector<std::string>{"m", "v"}));
  EXPECT_EQ(Ftrl<double>().slot_names(), (std::vector<std::string>{"n", "z"}));
  EXPECT_EQ(Lion<double>().slot_names(), std::vector<std::string>{"m"});
}

TEST(Factory, NamesAreCaseInsensitive) {
  EXPECT_EQ(optimizer_names(), (std::vector<std::string>{"sgd", "rmsprop", "adam", "adamw",
                                                         "adagrad", "adadelta", "adamax",
                                                         "nadam", "ftrl", "lion"}));
  EXPECT_EQ(make_optimizer<float>("SGD")->name(), "sgd");
  EXPECT_EQ(make_optimizer<float>("RMSprop")->name(), "rmsprop");
  EXPECT_EQ(make_optimizer<float>("Adam")->name(), "adam");
  EXPECT_EQ(make_optimizer<float>("ADAMW")->name(), "adamw");
  EXPECT_EQ(make_optimizer<float>("AdaGrad")->name(), "adagrad");
  EXPECT_EQ(make_optimizer<float>("Adadelta")->name(), "adadelta");
  EXPECT_EQ(make_optimizer<float>("Adamax")->name(), "adamax");
  EXPECT_EQ(make_optimizer<float>("Nadam")->name(), "nadam");
  EXPECT_EQ(make_optimizer<float>("Ftrl")->name(), "ftrl");
  EXPECT_EQ(make_optimizer<float>("Lion")->name(), "lion");
  // The concrete classes.
  EXPECT_NE(dynamic_cast<RMSprop<float>*>(make_optimizer<float>("rmsprop").get()), nullptr);
  EXPECT_NE(dynamic_cast<AdamW<float>*>(make_optimizer<float>("adamw").get()), nullptr);
}

TEST(Factory, OptionsReachTheOptimizer) {
  const auto sgd = make_optimizer<double>(
      "sgd", {{"learning_rate", 0.5}, {"momentum", 0.9}, {"nesterov", true}, {"clipnorm", 2.0}});
  const auto& o = dynamic_cast<SGD<double>&>(*sgd).options();
  EXPECT_EQ(o.learning_rate.constant(), 0.5);
  EXPECT_EQ(o.momentum, 0.9);
  EXPECT_TRUE(o.nesterov);
  EXPECT_EQ(sgd->common_options().clipnorm, 2.0);
  // Integers are numbers too.
  EXPECT_EQ(make_optimizer<double>("sgd", {{"learning_rate", 1}})->learning_rate(), 1.0);
  const auto adamw = make_optimizer<double>("adamw", {{"weight_decay", 0.1}, {"amsgrad", true}});
  EXPECT_EQ(adamw->common_options().weight_decay, 0.1);
  EXPECT_EQ(adamw->slot_names(), (std::vector<std::string>{"m", "v", "vhat"}));
  EXPECT_EQ(optimizer_option_names("nadam"),
            (std::vector<std::string>{"beta_1", "beta_2", "clipnorm", "clipvalue", "epsilon",
                                      "global_clipnorm", "learning_rate", "weight_decay"}));
}

TEST(Factory, UnknownNameIsNamedWithTheValidOnes) {
  const std::string e = error_of([] { make_optimizer<float>("adamm"); });
  EXPECT_NE(e.find("\"adamm\""), std::string::npos) << e;
  EXPECT_NE(e.find("sgd, rmsprop, adam, adamw, adagrad, adadelta, adamax, nadam, ftrl"),
            std::string::npos)
      << e;
}

TEST(Factory, UnknownOptionIsNamedWithTheValidOnes) {
  const std::string e = error_of([] { make_optimizer<float>("adam", {{"betta_1", 0.9}}); });
  EXPECT_NE(e.find("\"betta_1\""), std::string::npos) << e;
  EXPECT_NE(e.find("amsgrad, beta_1, beta_2, clipnorm"), std::string::npos) << e;
  // An option of another optimizer is unknown here.
  EXPECT_NE(error_of([] { make_optimizer<float>("sgd", {{"rho", 0.9}}); }).find("\"rho\""),
            std::string::npos);
}

TEST(Factory, InvalidValuesNameTheArgument) {
  struct Bad {
    const char* optimizer;
    Options options;
    const char* argument;
  };
  const Bad bad[] = {
      {"sgd", {{"learning_rate", -0.1}}, "learning_rate"},
      {"adam", {{"learning_rate", std::nan("")}}, "learning_rate"},
      {"sgd", {{"momentum", 1.5}}, "momentum"},
      {"rmsprop", {{"rho", 1.0}}, "rho"},
      {"rmsprop", {{"rho", -0.1}}, "rho"},
      {"adadelta", {{"rho", 1.2}}, "rho"},
      {"adam", {{"beta_1", 1.0}}, "beta_1"},
      {"adamax", {{"beta_2", -0.5}}, "beta_2"},
      {"nadam", {{"epsilon", -1e-7}}, "epsilon"},
      {"adagrad", {{"initial_accumulator_value", -0.1}}, "initial_accumulator_value"},
      {"ftrl", {{"learning_rate_power", 0.5}}, "learning_rate_power"},
      {"ftrl", {{"l1_regularization_strength", -1.0}}, "l1_regularization_strength"},
      {"ftrl", {{"l2_regularization_strength", -1.0}}, "l2_regularization_strength"},
      {"ftrl", {{"l2_shrinkage_regularization_strength", -1.0}},
       "l2_shrinkage_regularization_strength"},
      {"ftrl", {{"beta", -1.0}}, "beta"},
      {"adamw", {{"weight_decay", -0.01}}, "weight_decay"},
      {"sgd", {{"clipnorm", 0.0}}, "clipnorm"},
      {"sgd", {{"clipnorm", 1.0}, {"global_clipnorm", 1.0}}, "global_clipnorm"},
      {"adam", {{"amsgrad", std::string("yes")}}, "amsgrad"},
      {"adam", {{"beta_1", true}}, "beta_1"},
      {"sgd", {{"nesterov", 1.0}}, "nesterov"},
      {"lion", {{"beta_1", 0.0}}, "beta_1"},  // Keras: (0, 1], else it is SignSGD
      {"lion", {{"beta_2", 1.5}}, "beta_2"},
      {"lion", {{"epsilon", 1e-7}}, "epsilon"},  // Lion has none
  };
  for (const auto& b : bad) {
    const std::string e = error_of([&] { make_optimizer<float>(b.optimizer, b.options); });
    EXPECT_NE(e.find(b.argument), std::string::npos)
        << b.optimizer << " " << b.argument << ": " << e;
    EXPECT_EQ(e.find("no ArgumentError"), std::string::npos) << b.optimizer << " " << b.argument;
  }
}

TEST(Factory, RangeErrorsSayTheAcceptedRange) {
  // The range comes from the optimizer's option table, for the factory and for the
  // constructor alike.
  const auto e = error_of([] { make_optimizer<float>("ftrl", {{"learning_rate_power", 0.5}}); });
  EXPECT_NE(
      e.find("ftrl: `learning_rate_power` must be a finite number <= 0. Received: learning_rate_power=0.5"),
      std::string::npos)
      << e;
  EXPECT_NE(error_of([] { Adam<float>({.beta_1 = 1.0}); }).find("`beta_1` must be a finite number in [0, 1)"),
            std::string::npos);
  EXPECT_NE(
      error_of([] { SGD<float>({}, {.clipvalue = 0.0}); }).find("`clipvalue` must be a finite number > 0"),
      std::string::npos);
}

TEST(Factory, ScheduleOrLearningRateNotBoth) {
  auto s = std::make_shared<ExponentialDecay>(0.1, 10, 0.5);
  const auto opt = make_optimizer<float>("adam", {}, s);
  EXPECT_EQ(opt->learning_rate(), 0.1);
  EXPECT_NE(error_of([&] { make_optimizer<float>("adam", {{"learning_rate", 0.1}}, s); })
                .find("learning_rate"),
            std::string::npos);
}

TEST(Factory, ConfigRebuildsTheSameOptimizer) {
  auto cosine = std::make_shared<CosineDecay>(0.0, 100, 0.0, 0.01, 10);
  std::vector<std::unique_ptr<Optimizer<double>>> all;
  all.push_back(std::make_unique<SGD<double>>(SGDOptions{0.2, 0.8, true}, CommonOptions{.clipvalue = 3.0}));
  all.push_back(std::make_unique<RMSprop<double>>(RMSpropOptions{cosine, 0.7, 0.3, 1e-6, true}));
  all.push_back(std::make_unique<Adam<double>>(AdamOptions{0.01, 0.8, 0.95, 1e-8, true},
                                               CommonOptions{.global_clipnorm = 5.0}));
  all.push_back(std::make_unique<AdamW<double>>(AdamWOptions{.weight_decay = 0.02}));
  all.push_back(std::make_unique<Adagrad<double>>(AdagradOptions{0.02, 0.5, 1e-6},
                                                  CommonOptions{.weight_decay = 0.001}));
  all.push_back(std::make_unique<Adadelta<double>>(AdadeltaOptions{1.0, 0.9, 1e-6}));
  all.push_back(std::make_unique<Adamax<double>>(AdamaxOptions{0.002, 0.85, 0.99, 1e-6}));
  all.push_back(std::make_unique<Nadam<double>>(NadamOptions{0.002, 0.85, 0.99, 1e-6},
                                                CommonOptions{.clipnorm = 1.0}));
  all.push_back(std::make_unique<Ftrl<double>>(FtrlOptions{0.05, -0.6, 0.2, 0.01, 0.02, 0.03, 0.1}));
  for (const auto& opt : all) {
    const OptimizerConfig c = opt->config();
    const auto copy = make_optimizer<double>(c);
    EXPECT_EQ(copy->config(), c) << c.name;
    EXPECT_EQ(copy->slot_names(), opt->slot_names()) << c.name;
  }
  // A schedule goes into learning_rate_schedule, not options.
  const OptimizerConfig rms = all[1]->config();
  EXPECT_FALSE(rms.options.count("learning_rate"));
  ASSERT_TRUE(rms.learning_rate_schedule.has_value());
  EXPECT_EQ(rms.learning_rate_schedule->name, "CosineDecay");
}

}  // namespace
}  // namespace dtrain::optimizers
