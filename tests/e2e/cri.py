"""A kubelet's calls to a CRI runtime, one per invocation, for tests/e2e/cri.rs.

Uses PyPI's container-runtime-interface-api (the generated CRI v1 stubs) and grpcio, as a
kubelet would use the same API; the Rust side sequences the calls, waits and asserts.

    cri.py SOCKET version
    cri.py SOCKET runp NAME CGROUP_PARENT LOG_DIR           -> sandbox id
    cri.py SOCKET create SANDBOX POD CGROUP_PARENT LOG_DIR NAME IMAGE OUT_DIR ARG...
                                                             -> container id
    cri.py SOCKET start|status|rm CONTAINER                  (status: JSON)
    cri.py SOCKET exec CONTAINER ARG...                      (its stdout; exits with its code)
    cri.py SOCKET stop CONTAINER TIMEOUT
    cri.py SOCKET stopp|rmp|pid SANDBOX                      (pid: the sandbox process's pid)
    cri.py SOCKET list                                       (JSON: sandboxes and containers)

The sandbox shares one PID namespace among its containers (shareProcessNamespace: true) and
uses the node's network and so its UTS namespace (no CNI here).
"""

import json
import sys

import grpc
from cri_api.v1 import api_pb2 as cri
from cri_api.v1 import api_pb2_grpc


def sandbox_config(name, cgroup_parent, log_dir):
    return cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(name=name, uid=name + "-uid", namespace="sexton-e2e"),
        log_directory=log_dir,
        linux=cri.LinuxPodSandboxConfig(
            cgroup_parent=cgroup_parent,
            security_context=cri.LinuxSandboxSecurityContext(
                namespace_options=cri.NamespaceOption(network=cri.NODE, pid=cri.POD, ipc=cri.POD)
            ),
        ),
    )


def main(sock, op, *args):
    rt = api_pb2_grpc.RuntimeServiceStub(grpc.insecure_channel("unix://" + sock))
    if op == "version":
        v = rt.Version(cri.VersionRequest())
        print(v.runtime_name, v.runtime_version, v.runtime_api_version)
    elif op == "runp":
        config = sandbox_config(*args)
        print(rt.RunPodSandbox(cri.RunPodSandboxRequest(config=config)).pod_sandbox_id)
    elif op == "create":
        sandbox, pod, cgroup_parent, log_dir, name, image, out_dir, *command = args
        config = cri.ContainerConfig(
            metadata=cri.ContainerMetadata(name=name),
            image=cri.ImageSpec(image=image),
            command=command,
            log_path=name + ".log",
            mounts=[cri.Mount(container_path="/out", host_path=out_dir)],
            linux=cri.LinuxContainerConfig(
                security_context=cri.LinuxContainerSecurityContext(
                    namespace_options=cri.NamespaceOption(
                        network=cri.NODE, pid=cri.POD, ipc=cri.POD
                    )
                )
            ),
        )
        request = cri.CreateContainerRequest(
            pod_sandbox_id=sandbox,
            config=config,
            sandbox_config=sandbox_config(pod, cgroup_parent, log_dir),
        )
        print(rt.CreateContainer(request).container_id)
    elif op == "start":
        rt.StartContainer(cri.StartContainerRequest(container_id=args[0]))
    elif op == "exec":
        r = rt.ExecSync(cri.ExecSyncRequest(container_id=args[0], cmd=list(args[1:]), timeout=30))
        sys.stdout.write(r.stdout.decode(errors="replace"))
        sys.stderr.write(r.stderr.decode(errors="replace"))
        return r.exit_code
    elif op == "stop":
        rt.StopContainer(cri.StopContainerRequest(container_id=args[0], timeout=int(args[1])))
    elif op == "status":
        s = rt.ContainerStatus(cri.ContainerStatusRequest(container_id=args[0])).status
        print(json.dumps({"state": cri.ContainerState.Name(s.state), "exit_code": s.exit_code}))
    elif op == "rm":
        rt.RemoveContainer(cri.RemoveContainerRequest(container_id=args[0]))
    elif op == "pid":
        r = rt.PodSandboxStatus(cri.PodSandboxStatusRequest(pod_sandbox_id=args[0], verbose=True))
        print(json.loads(r.info["info"])["pid"])
    elif op == "stopp":
        rt.StopPodSandbox(cri.StopPodSandboxRequest(pod_sandbox_id=args[0]))
    elif op == "rmp":
        rt.RemovePodSandbox(cri.RemovePodSandboxRequest(pod_sandbox_id=args[0]))
    elif op == "list":
        pods = rt.ListPodSandbox(cri.ListPodSandboxRequest()).items
        containers = rt.ListContainers(cri.ListContainersRequest()).containers
        print(json.dumps({"sandboxes": [p.id for p in pods], "containers": [c.id for c in containers]}))
    else:
        sys.exit(f"cri.py: unknown operation {op!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
