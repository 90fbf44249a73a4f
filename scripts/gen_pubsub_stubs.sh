#!/usr/bin/env bash
# Regenerate sf_pubsub_api/pubsub_api_pb2{,_grpc}.py from the committed pubsub_api.proto.
# Needs grpcio-tools (a developer tool, not a dependency): pip install grpcio-tools
set -euo pipefail
cd "$(dirname "$0")/.."
python -m grpc_tools.protoc -I. --python_out=. --grpc_python_out=. sf_pubsub_api/pubsub_api.proto
grep -m1 "Protobuf Python Version" sf_pubsub_api/pubsub_api_pb2.py
grep -m1 "GRPC_GENERATED_VERSION =" sf_pubsub_api/pubsub_api_pb2_grpc.py
echo "keep pyproject's protobuf and grpcio lower bounds at or above these"
