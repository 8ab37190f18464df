"""Scaffolding of a demo service: application code, Kubernetes manifests, Helm chart, CI."""

from __future__ import annotations

import json
from typing import Any

from prr.demo.templates import ORG, Svc, dump

# -- Kubernetes ---------------------------------------------------------------------------------


def container(
    svc: Svc, *, probes: bool = True, resources: bool = True, cpu: str = "250m", memory: str = "512Mi"
) -> dict[str, Any]:
    c: dict[str, Any] = {
        "name": svc.name,
        "image": f"{svc.image}:1.0.0",
        "ports": [{"name": "http", "containerPort": svc.port}],
        "env": [{"name": "PORT", "value": str(svc.port)}, {"name": "LOG_FORMAT", "value": "json"}],
    }
    if probes:
        c["readinessProbe"] = {
            "httpGet": {"path": "/readyz", "port": "http"},
            "periodSeconds": 5,
            "failureThreshold": 3,
        }
        c["livenessProbe"] = {
            "httpGet": {"path": "/livez", "port": "http"},
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
            "failureThreshold": 6,
        }
    if resources:
        c["resources"] = {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}}
    return c


def sidecar(name: str, image: str, port: int) -> dict[str, Any]:
    """A metrics sidecar as people forget to configure it: no probes, no limits."""
    return {
        "name": name,
        "image": image,
        "ports": [{"name": "metrics", "containerPort": port}],
        "resources": {"requests": {"cpu": "50m"}},
    }


def _pod(svc: Svc, containers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "metadata": {
            "labels": dict(svc.labels),
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(svc.port)},
        },
        "spec": {
            "serviceAccountName": svc.name,
            "terminationGracePeriodSeconds": 30,
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": dict(svc.labels)},
                }
            ],
            "containers": containers,
        },
    }


def deployment(svc: Svc, replicas: int, containers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": svc.name, "namespace": svc.namespace, "labels": dict(svc.labels)},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": dict(svc.labels)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
            "template": _pod(svc, containers or [container(svc)]),
        },
    }


def rollout(svc: Svc, replicas: int) -> dict[str, Any]:
    """An Argo Rollout with a canary strategy: automated rollback."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": svc.name, "namespace": svc.namespace, "labels": dict(svc.labels)},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": dict(svc.labels)},
            "strategy": {
                "canary": {
                    "canaryService": f"{svc.name}-canary",
                    "stableService": svc.name,
                    "steps": [
                        {"setWeight": 10},
                        {"pause": {"duration": "5m"}},
                        {"analysis": {"templates": [{"templateName": "error-rate"}]}},
                        {"setWeight": 50},
                        {"pause": {"duration": "10m"}},
                    ],
                }
            },
            "template": _pod(svc, [container(svc, cpu="500m", memory="1Gi")]),
        },
    }


def hpa(svc: Svc, minimum: int, maximum: int, kind: str = "Deployment") -> dict[str, Any]:
    api = "argoproj.io/v1alpha1" if kind == "Rollout" else "apps/v1"
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": svc.name, "namespace": svc.namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": api, "kind": kind, "name": svc.name},
            "minReplicas": minimum,
            "maxReplicas": maximum,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 65}},
                }
            ],
        },
    }


def pdb(svc: Svc, selector: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": svc.name, "namespace": svc.namespace},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector or dict(svc.labels)}},
    }


def k8s_service(svc: Svc) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": svc.name, "namespace": svc.namespace, "labels": dict(svc.labels)},
        "spec": {"selector": dict(svc.labels), "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }


def cronjob(svc: Svc, name: str, schedule: str, command: list[str]) -> dict[str, Any]:
    """A batch job: no probes, one run at a time; resilience checks leave it out."""
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": svc.namespace},
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "OnFailure",
                            "containers": [{"name": name, "image": f"{svc.image}:1.0.0", "command": command}],
                        }
                    }
                }
            },
        },
    }


def helm_chart(svc: Svc) -> dict[str, str]:
    """A small Helm chart: values, helpers, and templated manifests (not YAML until rendered)."""
    n = svc.name
    return {
        "chart/Chart.yaml": dump(
            {
                "apiVersion": "v2",
                "name": n,
                "description": svc.description,
                "type": "application",
                "version": "0.4.2",
                "appVersion": "2.3.0",
            }
        ),
        "chart/values.yaml": dump(
            {
                "replicaCount": 2,
                "image": {"repository": svc.image, "tag": "2.3.0"},
                "service": {"port": 80},
                "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "2Gi"}},
                "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 8},
            }
        ),
        "chart/templates/_helpers.tpl": f"""{{{{- define "{n}.labels" -}}}}
app.kubernetes.io/name: {{{{ .Chart.Name }}}}
app.kubernetes.io/instance: {{{{ .Release.Name }}}}
app.kubernetes.io/version: {{{{ .Chart.AppVersion | quote }}}}
{{{{- end }}}}
""",
        "chart/templates/deployment.yaml": f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ .Release.Name }}}}
  labels:
    {{{{- include "{n}.labels" . | nindent 4 }}}}
spec:
  {{{{- if not .Values.autoscaling.enabled }}}}
  replicas: {{{{ .Values.replicaCount }}}}
  {{{{- end }}}}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{{{ .Chart.Name }}}}
  template:
    metadata:
      labels:
        {{{{- include "{n}.labels" . | nindent 8 }}}}
    spec:
      containers:
        - name: {n}
          image: "{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}"
          ports:
            - name: http
              containerPort: {svc.port}
          readinessProbe:
            httpGet: {{path: /readyz, port: http}}
          livenessProbe:
            httpGet: {{path: /livez, port: http}}
          resources:
            {{{{- toYaml .Values.resources | nindent 12 }}}}
""",
        "chart/templates/hpa.yaml": """{{- if .Values.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .Release.Name }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .Release.Name }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageUtilization: 70}
{{- end }}
""",
    }


# -- CI -----------------------------------------------------------------------------------------

_SETUP: dict[str, list[dict[str, Any]]] = {
    "python": [
        {"uses": "actions/setup-python@v5", "with": {"python-version": "3.11", "cache": "pip"}},
        {"run": "pip install -r requirements.txt -r requirements-dev.txt"},
    ],
    "go": [{"uses": "actions/setup-go@v5", "with": {"go-version": "1.22"}}],
    "node": [{"uses": "actions/setup-node@v4", "with": {"node-version": "20", "cache": "npm"}}, {"run": "npm ci"}],
}


def github_actions(svc: Svc) -> str:
    """A GitHub Actions workflow that runs the tests, then builds and pushes the image on main."""
    return (
        dump(
            {
                "name": "ci",
                "on": {"push": {"branches": ["main"]}, "pull_request": None},
                "permissions": {"contents": "read", "packages": "write"},
                "jobs": {
                    "test": {
                        "runs-on": "ubuntu-latest",
                        "steps": [
                            {"uses": "actions/checkout@v4"},
                            *_SETUP[svc.lang],
                            {"name": "Unit tests", "run": svc.test_command},
                        ],
                    },
                    "image": {
                        "needs": "test",
                        "if": "github.ref == 'refs/heads/main'",
                        "runs-on": "ubuntu-latest",
                        "steps": [
                            {"uses": "actions/checkout@v4"},
                            {
                                "name": "Build and push",
                                "run": f"docker build -t {svc.image}:$GITHUB_SHA .\ndocker push {svc.image}:$GITHUB_SHA",
                            },
                        ],
                    },
                },
            }
        )
        .replace("'on':", "on:")
        .replace("pull_request: null", "pull_request:")
    )


def gitlab_ci(svc: Svc) -> str:
    images = {"python": "python:3.11-slim", "go": "golang:1.22", "node": "node:20"}
    return dump(
        {
            "stages": ["test", "build", "deploy"],
            "variables": {"DOCKER_TLS_CERTDIR": "/certs"},
            "unit-tests": {
                "stage": "test",
                "image": images[svc.lang],
                "script": [
                    *(["pip install -r requirements.txt -r requirements-dev.txt"] if svc.lang == "python" else []),
                    svc.test_command,
                ],
            },
            "build-image": {
                "stage": "build",
                "image": "docker:26",
                "services": ["docker:26-dind"],
                "script": [
                    "docker build -t $CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA .",
                    "docker push $CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA",
                ],
                "rules": [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}],
            },
            "deploy-production": {
                "stage": "deploy",
                "image": "bitnami/kubectl:1.29",
                "environment": "production",
                "script": [
                    f"kubectl apply -n {svc.namespace} -f k8s/",
                    f"kubectl set image deployment/{svc.name} "
                    f"{svc.name}=$CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA -n {svc.namespace}",
                ],
                "rules": [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", "when": "manual"}],
            },
        }
    )


def jenkinsfile_without_tests(svc: Svc) -> str:
    return f"""pipeline {{
    agent {{ label 'maven' }}
    options {{ timestamps() }}
    stages {{
        stage('Build') {{
            steps {{
                sh 'mvn -B -DskipTests package'
            }}
        }}
        stage('Publish') {{
            when {{ branch 'master' }}
            steps {{
                sh "docker build -t {svc.image}:${{env.BUILD_NUMBER}} ."
                sh "docker push {svc.image}:${{env.BUILD_NUMBER}}"
            }}
        }}
        stage('Deploy') {{
            when {{ branch 'master' }}
            steps {{
                sh "kubectl -n {svc.namespace} set image deployment/{svc.name} {svc.name}={svc.image}:${{env.BUILD_NUMBER}}"
            }}
        }}
    }}
}}
"""


# -- source -------------------------------------------------------------------------------------


def source_files(svc: Svc) -> dict[str, str]:
    """Just enough application code for the repo to look like a service."""
    if svc.lang == "go":
        return {
            "go.mod": f"module github.com/{ORG}/{svc.name}\n\ngo 1.22\n",
            "main.go": f"""package main

import (
\t"log"
\t"net/http"
)

func main() {{
\thttp.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {{ w.WriteHeader(http.StatusOK) }})
\thttp.HandleFunc("/livez", func(w http.ResponseWriter, r *http.Request) {{ w.WriteHeader(http.StatusOK) }})
\tlog.Fatal(http.ListenAndServe(":{svc.port}", nil))
}}
""",
            "main_test.go": """package main

import "testing"

func TestStarts(t *testing.T) {}
""",
            "Dockerfile": "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\n\n"
            'FROM gcr.io/distroless/base\nCOPY --from=build /app /app\nENTRYPOINT ["/app"]\n',
        }
    if svc.lang == "node":
        return {
            "package.json": json.dumps(
                {
                    "name": svc.name,
                    "version": "1.0.0",
                    "private": True,
                    "scripts": {"start": "node src/index.js", "test": "jest"},
                    "dependencies": {"express": "^4.19.2"},
                    "devDependencies": {"jest": "^29.7.0"},
                },
                indent=2,
            )
            + "\n",
            "src/index.js": f"""const express = require('express');
const app = express();
app.get('/readyz', (req, res) => res.sendStatus(200));
app.get('/livez', (req, res) => res.sendStatus(200));
app.listen({svc.port});
""",
            "src/index.test.js": "test('starts', () => { expect(true).toBe(true); });\n",
            "Dockerfile": 'FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci --omit=dev\nCMD ["npm", "start"]\n',
        }
    if svc.lang == "java":
        return {
            "pom.xml": f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>shop.acme</groupId>
  <artifactId>{svc.name}</artifactId>
  <version>1.0-SNAPSHOT</version>
  <packaging>jar</packaging>
</project>
""",
            "src/main/java/shop/acme/reports/ReportsApplication.java": """package shop.acme.reports;

public class ReportsApplication {
    public static void main(String[] args) {
        System.out.println("nightly reports");
    }
}
""",
            "Dockerfile": 'FROM eclipse-temurin:17-jre\nCOPY target/*.jar /app.jar\nCMD ["java", "-jar", "/app.jar"]\n',
        }
    package = svc.name.replace("-", "_")
    return {
        "requirements.txt": "flask==3.0.3\ngunicorn==22.0.0\nprometheus-client==0.20.0\n",
        "requirements-dev.txt": "pytest==8.2.0\n",
        f"src/{package}/__init__.py": "",
        f"src/{package}/app.py": f'''"""HTTP entry point of {svc.name}."""
from flask import Flask

app = Flask(__name__)


@app.get("/readyz")
def ready():
    return "ok"


@app.get("/livez")
def live():
    return "ok"
''',
        "tests/test_health.py": f"""from {package}.app import app


def test_ready():
    assert app.test_client().get("/readyz").status_code == 200
""",
        "Dockerfile": f"FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        f'CMD ["gunicorn", "-b", "0.0.0.0:{svc.port}", "{package}.app:app"]\n',
    }


def readme(svc: Svc) -> str:
    return f"""# {svc.name}

{svc.description}

Owned by **{svc.owner}**. Part of the `{svc.system}` system.

## Develop

```bash
{
        {
            "python": "pip install -r requirements.txt -r requirements-dev.txt",
            "go": "go build ./...",
            "node": "npm ci",
            "java": "mvn package",
        }[svc.lang]
    }
{svc.test_command}
```
"""
