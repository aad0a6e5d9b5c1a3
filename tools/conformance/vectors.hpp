// The test vectors of spec/vectors (format: spec/vectors/README.md) as
// checks: vectors.open.<id> (plant the image, zinc_open it),
// vectors.check_header.<id> (zinc_check_header on the bytes) and
// vectors.create.<id> (zinc_create, then compare the header bytes); and
// those of the channel layout (channel_vectors.cpp).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace zinc::conformance {

// Reads open.tsv and create.tsv under `dir` and registers a check per
// vector. False with `error` set if the files are missing or malformed.
bool add_vector_checks(const std::string& dir, std::string* error);

// vectors.channel.<id> (zinc_check_channel_header on each image of
// channel.tsv) and vectors.channel_geometry.<id> (zinc_channel_create with
// each row of channel_geometry.tsv, then the bytes it wrote). Adds nothing
// for a vectors folder without channel.tsv (one older than channels).
bool add_channel_vector_checks(const std::string& dir, std::string* error);

// The TSV files of spec/vectors: a header row, then one row per vector
// ('#' lines are comments). False with `error` set if a file is missing, a
// column in `columns` is absent, or a row has the wrong number of cells.
using Row = std::map<std::string, std::string>;
bool read_file(const std::string& path, std::string* out);
bool read_table(const std::string& path, const std::vector<std::string>& columns,
                std::vector<Row>* rows, std::string* error);

}  // namespace zinc::conformance
