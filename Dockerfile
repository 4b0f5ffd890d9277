# One image for every Tallyflow service in docker-compose.yml: Airflow, Spark, the site.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps curl \
    && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    PYTHONUNBUFFERED=1

WORKDIR /opt/tallyflow
COPY requirements.txt constraints.txt ./
RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt
COPY . .
RUN pip install --no-cache-dir --no-deps -e . \
    && useradd --create-home --uid 50000 tallyflow
USER tallyflow
