# The host with its plugins and the shipped data, for deploy/k8s (and Slurm sites that run containers, e.g.
# `apptainer build crate.sif docker-daemon://crate:latest`). Build: `docker build -t crate:latest .`
# (GPU, the default) or `docker build --build-arg TORCH_BACKEND=cpu -t crate:cpu .`.
# The cuda build needs a NuGet feed that serves TorchSharp-cuda-linux (README, GPU); the GPU driver comes from
# the node (NVIDIA container toolkit), libtorch's CUDA libraries come with the package.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TORCH_BACKEND=cuda
WORKDIR /src
COPY . .
RUN dotnet publish host -c Release -p:TorchBackend=${TORCH_BACKEND} -o /app \
 && cp -r data /app/data

FROM mcr.microsoft.com/dotnet/runtime:10.0
# libjemalloc2: the allocator the host re-executes itself under (README, Memory); libgomp1: libtorch's OpenMP.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2 libgomp1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app /app
WORKDIR /results
ENTRYPOINT ["dotnet", "/app/crate.dll"]
CMD ["list"]
