// The test vectors of spec/vectors (format: spec/vectors/README.md) as
// checks: vectors.open.<id> (plant the image, zinc_open it),
// vectors.check_header.<id> (zinc_check_header on the bytes) and
// vectors.create.<id> (zinc_create, then compare the header bytes).
#pragma once

#include <string>

namespace zinc::conformance {

// Reads open.tsv and create.tsv under `dir` and registers a check per
// vector. False with `error` set if the files are missing or malformed.
bool add_vector_checks(const std::string& dir, std::string* error);

}  // namespace zinc::conformance
