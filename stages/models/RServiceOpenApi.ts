import { JSONSchema, type Schema } from "effect"
import * as Cluster from "./schemas/Cluster.ts"
import { ServiceErrorBody } from "./schemas/Common.ts"
import * as Forecast from "./schemas/Forecast.ts"
import * as Growth from "./schemas/Growth.ts"
import * as Survival from "./schemas/Survival.ts"

interface Operation {
  readonly path: string
  readonly summary: string
  readonly request: Schema.Schema.Any
  readonly response: Schema.Schema.Any
}

interface ServiceSpec {
  readonly title: string
  readonly description: string
  readonly tokenVariable: string
  readonly health: Schema.Schema.Any
  readonly operations: ReadonlyArray<Operation>
}

/** The three services, their endpoints and the schemas the TypeScript clients encode and decode with. */
export const services = {
  brms: {
    title: "r-brms-plumber",
    description: "Bayesian growth model score ~ week + (week | student) with brms; one compiled Stan template.",
    tokenVariable: "R_BRMS_INTERNAL_TOKEN",
    health: Growth.BrmsHealth,
    operations: [
      {
        path: "/growth/fit",
        summary: "Fit the growth model; population posterior, diagnostics and per-student goal posterior",
        request: Growth.GrowthFitRequest,
        response: Growth.GrowthFitResponse
      },
      {
        path: "/growth/predict",
        summary: "Goal probability from stored per-student coefficients (stateless)",
        request: Growth.GrowthPredictRequest,
        response: Growth.GrowthPredictResponse
      }
    ]
  },
  forecast: {
    title: "r-forecast-plumber",
    description:
      "Prophet forecasts of weekly series (batched) and the churn model: Cox proportional hazards of the time to return after each gap between active days.",
    tokenVariable: "R_FORECAST_INTERNAL_TOKEN",
    health: Forecast.ForecastHealth,
    operations: [
      {
        path: "/prophet/fit",
        summary: "Fit many weekly series: in-sample fit, forecast, anomalies, changepoints; per-series status",
        request: Forecast.ProphetFitRequest,
        response: Forecast.ProphetFitResponse
      },
      {
        path: "/survival/fit",
        summary:
          "Cox PH of the time to return over every gap between active days (the open gap censored at the cutoff); return hazard ratios and churn probability per student at the cutoff",
        request: Survival.SurvivalFitRequest,
        response: Survival.SurvivalFitResponse
      },
      {
        path: "/survival/predict",
        summary:
          "Churn probability from the days since the last active day, stored coefficients and baseline hazard (stateless)",
        request: Survival.SurvivalPredictRequest,
        response: Survival.SurvivalPredictResponse
      }
    ]
  },
  cluster: {
    title: "r-cluster-plumber",
    description: "Learning-pattern segments: k-means on standardised features with labels derived from the centres.",
    tokenVariable: "R_CLUSTER_INTERNAL_TOKEN",
    health: Cluster.ClusterHealth,
    operations: [
      {
        path: "/cluster/fit",
        summary: "Segment users (k by the gap statistic when not given)",
        request: Cluster.ClusterFitRequest,
        response: Cluster.ClusterFitResponse
      },
      {
        path: "/cluster/predict",
        summary: "Assign users to stored centres with the stored scaling (stateless)",
        request: Cluster.ClusterPredictRequest,
        response: Cluster.ClusterPredictResponse
      }
    ]
  }
} satisfies Record<string, ServiceSpec>

const json = (schema: Schema.Schema.Any) => ({
  "application/json": { schema: JSONSchema.make(schema, { target: "openApi3.1" }) }
})

const errorResponse = (description: string) => ({ description, content: json(ServiceErrorBody) })

/** The OpenAPI 3.1 document a service serves at `/openapi.json`. */
export const openApiDocument = (service: keyof typeof services) => {
  const spec: ServiceSpec = services[service]
  const paths: Record<string, unknown> = {
    "/health": {
      get: {
        summary: "Readiness (no token needed)",
        responses: { "200": { description: "service state", content: json(spec.health) } }
      }
    }
  }
  for (const operation of spec.operations) {
    paths[operation.path] = {
      post: {
        summary: operation.summary,
        security: [{ internalToken: [] }, { bearer: [] }],
        requestBody: { required: true, content: json(operation.request) },
        responses: {
          "200": { description: "result", content: json(operation.response) },
          "400": errorResponse("malformed JSON; `field` is `body`"),
          "401": errorResponse("missing or wrong internal token"),
          "422": errorResponse("invalid input; `field` is the JSON path of the offending value"),
          "500": errorResponse("the model failed; `message` is the R error"),
          "503": errorResponse("not ready (brms: compiled model not loaded yet)")
        }
      }
    }
  }
  return {
    openapi: "3.1.0",
    info: { title: spec.title, version: "1.0.0", description: `${spec.description} Token: ${spec.tokenVariable}.` },
    components: {
      securitySchemes: {
        internalToken: { type: "apiKey", in: "header", name: "X-Internal-Token" },
        bearer: { type: "http", scheme: "bearer" }
      }
    },
    paths
  }
}
