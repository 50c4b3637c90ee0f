"""The history of the periodic jobs: one row per run, from beat or by hand, which the
watchdog and the staff console read."""

from __future__ import annotations

from datetime import timedelta

from django.db import models


class JobName(models.TextChoices):
    """The periodic jobs whose runs are recorded; beat and the commands run the same ones."""

    CHECK_BUDGET = "check_budget", "Budget check"
    ENFORCE_DAYPARTING = "enforce_dayparting", "Dayparting"
    RESET_SPEND_DAILY = "reset_spend_daily", "Daily reset"
    RESET_SPEND_MONTHLY = "reset_spend_monthly", "Monthly reset"
    PRUNE_JOB_RUNS = "prune_job_runs", "Prune job history"
    LEDGER_PARTITIONS = "ledger_partitions", "Ledger partitions ahead"
    ALERT_UNDERSPEND = "alert_underspend", "Underspend alerts"
    LEARN_LAGS = "learn_lags", "Reporting lags learned"


class JobTrigger(models.TextChoices):
    BEAT = "beat", "Celery beat"
    COMMAND = "command", "Management command"
    API = "api", "API or task call"


class JobOutcome(models.TextChoices):
    RUNNING = "running", "Running"  # or died without a word (a killed worker)
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped: another run of this job was in progress"


class JobRun(models.Model):
    """One run of a periodic job, from beat or by hand. Written when the run starts (so a
    run that dies stays visible as ``running``) and completed when it ends; the watchdog
    reads the last success of each job from here."""

    job = models.CharField(max_length=32, choices=JobName.choices)
    trigger = models.CharField(max_length=16, choices=JobTrigger.choices)
    actor = models.CharField(max_length=150)
    outcome = models.CharField(
        max_length=16, choices=JobOutcome.choices, default=JobOutcome.RUNNING
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    checked = models.PositiveIntegerField(null=True, blank=True, help_text="Campaigns checked.")
    paused = models.PositiveIntegerField(default=0)
    resumed = models.PositiveIntegerField(default=0)
    reason_changed = models.PositiveIntegerField(default=0)
    # The job's own figures: paused by reason for sweeps, rows deleted for the prune.
    detail = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # A split run's claim holds until then; its ranges push it on as they start and finish
    # (ads.services.sweep_split). Empty for every other run.
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["job", "outcome", "-finished_at"], name="job_run_last_idx"),
            models.Index(fields=["started_at"], name="job_run_started_idx"),
        ]

    def __str__(self) -> str:
        outcome = self.get_outcome_display().split(":")[0].lower()
        return f"{self.get_job_display()} {outcome} at {self.started_at:%Y-%m-%d %H:%M:%S %Z}"

    @property
    def duration(self) -> timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at
