// The thread's last error message behind zinc_last_error_message, for the
// extern "C" files other than c_api.cpp (which owns it).
#pragma once

#include <cstdint>

#include "status.hpp"

namespace zinc::core {

// Keeps status.message for zinc_last_error_message; returns status.code.
int32_t record_failure(const Status& status);

}  // namespace zinc::core
