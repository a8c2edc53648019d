// deploy/ cannot be applied here (no cluster, no Docker engine), so this checks what would break it on the day:
// every manifest parses, every image is one the Dockerfiles build, every environment variable is one the code reads,
// secrets come from Secrets, the R URLs reach the Services, and the mounted schedule is valid.

import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { parseAllDocuments } from "yaml"
import * as Schedule from "../../config/schedule.ts"
import { pipelines } from "../../pipelines/registry.ts"
import { repositoryRoot } from "../support/rServices.ts"

const read = (file: string) => fs.readFileSync(path.join(repositoryRoot, file), "utf8")

interface EnvVar {
  readonly name: string
  readonly value?: string
  readonly valueFrom?: { readonly secretKeyRef?: { readonly name: string; readonly key: string } }
}
interface Container {
  readonly name: string
  readonly image: string
  readonly securityContext?: { readonly allowPrivilegeEscalation?: boolean; readonly readOnlyRootFilesystem?: boolean }
  readonly volumeMounts?: ReadonlyArray<{ readonly name: string; readonly mountPath: string }>
  readonly readinessProbe?: any
  readonly livenessProbe?: any
  readonly args?: ReadonlyArray<string>
  readonly env?: ReadonlyArray<EnvVar>
  readonly ports?: ReadonlyArray<{ readonly name: string; readonly containerPort: number }>
  readonly resources?: { readonly requests?: { readonly cpu?: string } }
}
interface Manifest {
  readonly kind: string
  readonly metadata: { readonly name: string }
  readonly spec: any
}

const kustomization = parseAllDocuments(read("deploy/base/kustomization.yaml"))[0]!.toJS() as {
  resources: ReadonlyArray<string>
  configMapGenerator: ReadonlyArray<{ name: string; files: ReadonlyArray<string> }>
}
const manifests: ReadonlyArray<Manifest> = kustomization.resources.flatMap((file) =>
  parseAllDocuments(read(`deploy/base/${file}`)).map((doc) => {
    assert.deepStrictEqual(doc.errors, [], `deploy/base/${file} parses`)
    return doc.toJS() as Manifest
  })
)
const deployments = manifests.filter((m) => m.kind === "Deployment")
const containersOf = (d: Manifest): ReadonlyArray<Container> => d.spec.template.spec.containers
const allContainers = deployments.flatMap(containersOf)

/** Environment variable names the code reads: settings (`env: "X"`), Config reads, and the R clients' prefixes. */
const namesReadByCode = (): Set<string> => {
  const names = new Set<string>(["TZ"])
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(repositoryRoot, dir), { withFileTypes: true })) {
      const file = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(file)
      else if (entry.name.endsWith(".ts")) {
        const text = read(file)
        for (const m of text.matchAll(/env: "([A-Z0-9_]+)"|Config\.\w+\("([A-Z0-9_]+)"/g)) names.add(m[1] ?? m[2]!)
        for (const m of text.matchAll(/prefix: "([A-Z0-9_]+)"/g)) {
          for (const suffix of ["_URL", "_INTERNAL_TOKEN", "_TIMEOUT_SECS"]) names.add(m[1] + suffix)
        }
      }
    }
  }
  for (const dir of ["config", "cli", "sources", "stages", "engine"]) walk(dir)
  return names
}

describe("deploy/ manifests", () => {
  it("every resource the kustomization lists exists and holds Deployments with Services", () => {
    assert.isAbove(deployments.length, 3)
    for (const d of deployments) {
      const labels = d.spec.template.metadata.labels as Record<string, string>
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels as Record<string, string>)) {
        assert.strictEqual(labels[k], v, `${d.metadata.name}: its selector matches its pods`)
      }
    }
  })

  it("every image is one the Dockerfiles build", () => {
    const rTargets = [...read("r-services/Dockerfile").matchAll(/^FROM r-base AS (\w+)$/gm)].map(
      (m) => `r-${m[1]}-plumber`
    )
    assert.deepStrictEqual(rTargets.sort(), ["r-brms-plumber", "r-cluster-plumber", "r-forecast-plumber"])
    assert.match(read("Dockerfile"), /ENTRYPOINT \["node", "bin\/seedtest.mjs"\]/)
    for (const c of allContainers) {
      const image = c.image.split(":")[0]!
      assert.include([...rTargets, "seedtest-pipelines"], image, `${c.name}: image ${c.image}`)
    }
  })

  it("names only environment variables the code reads, and takes every secret from a Secret", () => {
    const known = namesReadByCode()
    const secrets = ["DATABASE_URL", "R_BRMS_INTERNAL_TOKEN", "R_FORECAST_INTERNAL_TOKEN", "R_CLUSTER_INTERNAL_TOKEN"]
    for (const c of allContainers) {
      for (const v of c.env ?? []) {
        assert.isTrue(known.has(v.name), `${c.name}: ${v.name} is read by the code`)
        if (secrets.includes(v.name)) {
          assert.isUndefined(v.value, `${c.name}: ${v.name} is not written into the manifest`)
          assert.isDefined(v.valueFrom?.secretKeyRef, `${c.name}: ${v.name} comes from a Secret`)
        }
      }
    }
  })

  it("the scheduler reaches each R service's Service, with the token that service reads", () => {
    const scheduler = containersOf(deployments.find((d) => d.metadata.name === "seedtest-scheduler")!)[0]!
    const env = new Map((scheduler.env ?? []).map((v) => [v.name, v]))
    for (const service of ["brms", "forecast", "cluster"]) {
      const prefix = `R_${service.toUpperCase()}`
      const url = new URL(env.get(`${prefix}_URL`)!.value!)
      const svc = manifests.find((m) => m.kind === "Service" && m.metadata.name === url.hostname)
      assert.isDefined(svc, `${prefix}_URL names a Service`)
      const port = svc!.spec.ports[0]
      assert.strictEqual(Number(url.port || 80), port.port, `${prefix}_URL uses the Service's port`)
      const backend = deployments.find((d) =>
        Object.entries(svc!.spec.selector as Record<string, string>).every(
          ([k, v]) => d.spec.template.metadata.labels[k] === v
        )
      )!
      const container = containersOf(backend)[0]!
      const target = container.ports!.find((p) => p.name === port.targetPort)!
      // the R images listen on 8080 (their CMD)
      assert.strictEqual(target.containerPort, 8080)
      const served = container.env!.find((v) => v.name === `${prefix}_INTERNAL_TOKEN`)!.valueFrom!.secretKeyRef!
      assert.deepStrictEqual(
        env.get(`${prefix}_INTERNAL_TOKEN`)!.valueFrom!.secretKeyRef,
        served,
        `${prefix}: one token on both sides`
      )
    }
  })

  it("each R service scales on CPU with a HorizontalPodAutoscaler, and the scheduler's concurrency matches it", () => {
    const scheduler = containersOf(deployments.find((d) => d.metadata.name === "seedtest-scheduler")!)[0]!
    const env = new Map((scheduler.env ?? []).map((v) => [v.name, v.value]))
    const autoscalers = manifests.filter((m) => m.kind === "HorizontalPodAutoscaler")
    const rDeployments = deployments.filter((d) => d.metadata.name.startsWith("r-"))
    assert.strictEqual(rDeployments.length, 3)
    for (const d of rDeployments) {
      const hpa = autoscalers.find((h) => h.spec.scaleTargetRef.name === d.metadata.name)
      assert.isDefined(hpa, `${d.metadata.name} has an autoscaler`)
      const target = { apiVersion: "apps/v1", kind: "Deployment", name: d.metadata.name }
      assert.deepStrictEqual(hpa!.spec.scaleTargetRef, target)
      assert.isAtLeast(hpa!.spec.minReplicas, 1)
      assert.isAbove(hpa!.spec.maxReplicas, hpa!.spec.minReplicas, `${d.metadata.name} can scale out`)
      const metrics = hpa!.spec.metrics as ReadonlyArray<any>
      const cpu = metrics.find((m) => m.type === "Resource" && m.resource.name === "cpu")
      assert.strictEqual(cpu?.resource.target.type, "Utilization", `${d.metadata.name} scales on CPU utilisation`)
      // utilisation is measured against the pods' CPU request, and a fixed replica count would fight the autoscaler
      assert.isDefined(containersOf(d)[0]!.resources?.requests?.cpu, `${d.metadata.name} requests CPU`)
      assert.isUndefined(d.spec.replicas, `${d.metadata.name} leaves its replica count to the autoscaler`)
    }
    const maxOf = (name: string) => autoscalers.find((h) => h.spec.scaleTargetRef.name === name)!.spec.maxReplicas
    // one request computing and one queued per pod at the most replicas (the clients' default per URL)
    assert.strictEqual(Number(env.get("FORECAST_CONCURRENCY")), 2 * maxOf("r-forecast-plumber"))
    assert.strictEqual(Number(env.get("GROWTH_CONCURRENCY")), 2 * maxOf("r-brms-plumber"))
  })

  it("the scheduler's pods outlive its grace period, so a stopping replica finishes or rolls back its run", () => {
    const scheduler = deployments.find((d) => d.metadata.name === "seedtest-scheduler")!
    const args = containersOf(scheduler)[0]!.args!
    const grace = Number(args[args.indexOf("--grace") + 1])
    assert.isAbove(scheduler.spec.template.spec.terminationGracePeriodSeconds, grace)
    assert.isAtLeast(scheduler.spec.replicas, 2)
  })

  it.effect("the schedule it mounts is valid for the registered pipelines", () =>
    Effect.gen(function* () {
      const generator = kustomization.configMapGenerator.find((g) => g.name === "seedtest-schedule")!
      const entries = yield* Schedule.load(
        path.join(repositoryRoot, "deploy", "base", generator.files[0]!),
        pipelines.map((p) => p.name)
      )
      assert.isAbove(entries.length, 5)
    })
  )

  it("runs every container as non-root with a read-only root filesystem, no privilege escalation and a writable /tmp", () => {
    for (const d of deployments) {
      const pod = d.spec.template.spec
      assert.isTrue(pod.securityContext?.runAsNonRoot, `${d.metadata.name}: runAsNonRoot`)
      assert.isAbove(pod.securityContext?.runAsUser ?? 0, 0, `${d.metadata.name}: a non-root uid`)
      const volumes = new Map(
        (pod.volumes as ReadonlyArray<{ name: string; emptyDir?: object }>).map((v) => [v.name, v])
      )
      for (const c of containersOf(d)) {
        assert.strictEqual(c.securityContext?.allowPrivilegeEscalation, false, `${c.name}: no privilege escalation`)
        assert.strictEqual(c.securityContext?.readOnlyRootFilesystem, true, `${c.name}: read-only root filesystem`)
        const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === "/tmp")
        assert.isDefined(tmp, `${c.name}: /tmp is writable (R's tempdir, Chromium's profile)`)
        assert.isDefined(volumes.get(tmp!.name)?.emptyDir, `${c.name}: /tmp is an emptyDir`)
      }
    }
  })

  it("probes the scheduler through the health file it writes, and keeps one replica through disruptions", () => {
    const scheduler = deployments.find((d) => d.metadata.name === "seedtest-scheduler")!
    const container = containersOf(scheduler)[0]!
    const args = container.args!
    const health = args[args.indexOf("--health-file") + 1]!
    assert.isTrue(health.startsWith("/tmp/"), "the health file is on the writable /tmp")
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      assert.include(JSON.stringify(probe.exec.command), health)
    }
    const pdb = manifests.find((m) => m.kind === "PodDisruptionBudget")
    assert.isDefined(pdb)
    assert.deepStrictEqual(pdb!.spec.selector.matchLabels, scheduler.spec.selector.matchLabels)
    assert.isAtLeast(pdb!.spec.minAvailable, 1)
    assert.isBelow(pdb!.spec.minAvailable, scheduler.spec.replicas, "a node can still be drained")
  })

  describe("the production overlay", () => {
    const overlayDir = "deploy/overlays/production"
    const overlay = parseAllDocuments(read(`${overlayDir}/kustomization.yaml`))[0]!.toJS() as {
      resources: ReadonlyArray<string>
      images: ReadonlyArray<{ name: string; newName?: string; newTag?: string; digest?: string }>
    }
    const overlayManifests = overlay.resources
      .filter((r) => r.endsWith(".yaml"))
      .flatMap((file) =>
        parseAllDocuments(read(`${overlayDir}/${file}`)).map((doc) => {
          assert.deepStrictEqual(doc.errors, [], `${overlayDir}/${file} parses`)
          return doc.toJS() as Manifest
        })
      )

    it("builds on the base", () => {
      assert.strictEqual(path.normalize(path.join(overlayDir, overlay.resources[0]!)), path.normalize("deploy/base"))
    })

    it("creates every Secret the base reads with an ExternalSecret from the namespace's gcpsm-secret-store", () => {
      const externalSecrets = overlayManifests.filter((m) => m.kind === "ExternalSecret")
      const refs = allContainers.flatMap((c) =>
        (c.env ?? []).flatMap((v) => (v.valueFrom?.secretKeyRef === undefined ? [] : [v.valueFrom.secretKeyRef]))
      )
      assert.isAbove(refs.length, 4)
      for (const ref of refs) {
        const es = externalSecrets.find((e) => e.spec.target.name === ref.name)
        assert.isDefined(es, `an ExternalSecret creates the Secret ${ref.name}`)
        assert.deepStrictEqual(es!.spec.secretStoreRef, { kind: "SecretStore", name: "gcpsm-secret-store" })
        const entry = (es!.spec.data as ReadonlyArray<{ secretKey: string; remoteRef: { key: string } }>).find(
          (d) => d.secretKey === ref.key
        )
        assert.isDefined(entry, `${ref.name} has the key ${ref.key}`)
        // the R tokens live under the seed system's paths, named like their Secrets
        if (ref.name.endsWith("-internal-token")) assert.strictEqual(entry!.remoteRef.key, ref.name)
      }
      for (const name of [
        "r-brms-internal-token",
        "r-forecast-internal-token",
        "r-cluster-internal-token",
        "seedtest-database"
      ]) {
        assert.isDefined(
          externalSecrets.find((e) => e.spec.target.name === name),
          name
        )
      }
    })

    it("pins every image the base uses to a release tag or digest, never latest", () => {
      for (const c of allContainers) {
        const name = c.image.split(":")[0]!
        const pin = overlay.images.find((i) => i.name === name)
        assert.isDefined(pin, `${name} is pinned in the overlay`)
        const tag = pin!.digest ?? pin!.newTag
        assert.isDefined(tag, `${name} has a tag or digest`)
        assert.notStrictEqual(tag, "latest", `${name} is not pinned to latest`)
      }
    })
  })
})
