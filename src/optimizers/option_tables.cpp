// The option table of each optimizer (see option_table.hpp): Keras' argument names
// (keras/src/optimizers/<name>.py), the member that holds each one (its initializer
// is the Keras default) and the values Keras accepts.
#include "option_table.hpp"

#include "dtrain/optimizers/adadelta.hpp"
#include "dtrain/optimizers/adagrad.hpp"
#include "dtrain/optimizers/adam.hpp"
#include "dtrain/optimizers/adamax.hpp"
#include "dtrain/optimizers/ftrl.hpp"
#include "dtrain/optimizers/lion.hpp"
#include "dtrain/optimizers/nadam.hpp"
#include "dtrain/optimizers/optimizer.hpp"
#include "dtrain/optimizers/rmsprop.hpp"
#include "dtrain/optimizers/sgd.hpp"

namespace dtrain::optimizers::detail {
namespace {

// Every optimizer (base_optimizer.py) besides the learning rate; unset = Keras' None.
constexpr OptionRow<CommonOptions> kCommon[] = {
    optional_row("weight_decay", &CommonOptions::weight_decay, kNonNegative),     // w -= w * decay * lr
    optional_row("clipnorm", &CommonOptions::clipnorm, kPositive),                // per-variable norm
    optional_row("clipvalue", &CommonOptions::clipvalue, kPositive),              // element-wise
    optional_row("global_clipnorm", &CommonOptions::global_clipnorm, kPositive),  // norm over all
};

// sgd.py
constexpr OptionRow<SGDOptions> kSGD[] = {
    number_row("momentum", &SGDOptions::momentum, kUnitClosed),  // velocity decay; 0: plain SGD
    flag_row("nesterov", &SGDOptions::nesterov),                 // Nesterov momentum
};

// rmsprop.py
constexpr OptionRow<RMSpropOptions> kRMSprop[] = {
    number_row("rho", &RMSpropOptions::rho, kUnitOpen),              // discount of the mean square
    number_row("momentum", &RMSpropOptions::momentum, kUnitClosed),  // of the update; 0: none
    number_row("epsilon", &RMSpropOptions::epsilon, kNonNegative),   // added to the root mean square
    flag_row("centered", &RMSpropOptions::centered),                 // divide by the variance instead
};

// adam.py; AdamW (adamw.py) takes the same, and weight_decay with its own default.
constexpr OptionRow<AdamOptions> kAdam[] = {
    number_row("beta_1", &AdamOptions::beta_1, kUnitOpen),       // decay of the first moment
    number_row("beta_2", &AdamOptions::beta_2, kUnitOpen),       // decay of the second moment
    number_row("epsilon", &AdamOptions::epsilon, kNonNegative),  // "epsilon hat", after bias correction
    flag_row("amsgrad", &AdamOptions::amsgrad),                  // the largest second moment so far
};

// adagrad.py
constexpr OptionRow<AdagradOptions> kAdagrad[] = {
    // the start of the sum of squared gradients
    number_row("initial_accumulator_value", &AdagradOptions::initial_accumulator_value, kNonNegative),
    number_row("epsilon", &AdagradOptions::epsilon, kNonNegative),  // added to the root of the sum
};

// adadelta.py
constexpr OptionRow<AdadeltaOptions> kAdadelta[] = {
    number_row("rho", &AdadeltaOptions::rho, kUnitOpen),             // decay of both running averages
    number_row("epsilon", &AdadeltaOptions::epsilon, kNonNegative),  // added inside both roots
};

// adamax.py
constexpr OptionRow<AdamaxOptions> kAdamax[] = {
    number_row("beta_1", &AdamaxOptions::beta_1, kUnitOpen),       // decay of the first moment
    number_row("beta_2", &AdamaxOptions::beta_2, kUnitOpen),       // decay of the infinity norm
    number_row("epsilon", &AdamaxOptions::epsilon, kNonNegative),  // added to the infinity norm
};

// nadam.py
constexpr OptionRow<NadamOptions> kNadam[] = {
    number_row("beta_1", &NadamOptions::beta_1, kUnitOpen),       // first moment, momentum schedule
    number_row("beta_2", &NadamOptions::beta_2, kUnitOpen),       // decay of the second moment
    number_row("epsilon", &NadamOptions::epsilon, kNonNegative),  // added to the root
};

// ftrl.py (McMahan et al. 2013)
constexpr OptionRow<FtrlOptions> kFtrl[] = {
    // -p: how fast the per-coordinate rate falls as the accumulator grows
    number_row("learning_rate_power", &FtrlOptions::learning_rate_power, kNonPositive),
    // the start of the accumulator n
    number_row("initial_accumulator_value", &FtrlOptions::initial_accumulator_value, kNonNegative),
    // L1 of the FTRL objective: a weight is 0 while |z| <= l1
    number_row("l1_regularization_strength", &FtrlOptions::l1_regularization_strength, kNonNegative),
    // L2 of the FTRL objective
    number_row("l2_regularization_strength", &FtrlOptions::l2_regularization_strength, kNonNegative),
    // L2 added to the gradient (shrinkage towards 0)
    number_row("l2_shrinkage_regularization_strength", &FtrlOptions::l2_shrinkage_regularization_strength,
               kNonNegative),
    // added to the root of the accumulator (as beta / lr)
    number_row("beta", &FtrlOptions::beta, kNonNegative),
};

// lion.py; Keras raises for beta_1 outside (0, 1] ("degenerates to SignSGD").
constexpr Range kUnitLeftOpen{0.0, Bound::kOpen, 1.0, Bound::kClosed};  // (0, 1]
constexpr OptionRow<LionOptions> kLion[] = {
    number_row("beta_1", &LionOptions::beta_1, kUnitLeftOpen),  // weight of the momentum in the update
    number_row("beta_2", &LionOptions::beta_2, kUnitClosed),    // decay of the momentum
};

}  // namespace

OptionTable<CommonOptions> option_table(std::type_identity<CommonOptions>) { return kCommon; }
OptionTable<SGDOptions> option_table(std::type_identity<SGDOptions>) { return kSGD; }
OptionTable<RMSpropOptions> option_table(std::type_identity<RMSpropOptions>) { return kRMSprop; }
OptionTable<AdamOptions> option_table(std::type_identity<AdamOptions>) { return kAdam; }
OptionTable<AdagradOptions> option_table(std::type_identity<AdagradOptions>) { return kAdagrad; }
OptionTable<AdadeltaOptions> option_table(std::type_identity<AdadeltaOptions>) { return kAdadelta; }
OptionTable<AdamaxOptions> option_table(std::type_identity<AdamaxOptions>) { return kAdamax; }
OptionTable<NadamOptions> option_table(std::type_identity<NadamOptions>) { return kNadam; }
OptionTable<FtrlOptions> option_table(std::type_identity<FtrlOptions>) { return kFtrl; }
OptionTable<LionOptions> option_table(std::type_identity<LionOptions>) { return kLion; }

}  // namespace dtrain::optimizers::detail
