"""nbgrader configuration of the CNN course (run nbgrader from the course folder)."""
import glob
import os

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Students write code in cnnlib/*.py inside each assignment. Autograde must keep their files,
# not overwrite them with the stubs from solutions/; nbgrader takes exact relative paths only.
c.Autograde.exclude_overwriting = {
    os.path.basename(folder): sorted(
        os.path.relpath(path, folder) for path in glob.glob(os.path.join(folder, "cnnlib", "*.py"))
    )
    for folder in glob.glob(os.path.join("solutions", "*"))
}

# Collecting from an LMS: one zip per student named <student-id>_<anything>.zip, holding the
# notebook and cnnlib/*.py (at any depth). macOS resource forks (._x, __MACOSX/) and files
# outside cnnlib/ (a student's torch.py would shadow torch) are skipped.
c.FileNameCollectorPlugin.valid_ext = [".ipynb", ".py", ".npz"]  # .npz: 08_training's lenet5_weights.npz
c.FileNameCollectorPlugin.named_regexp = (
    r"^(?!.*/__MACOSX/).*/extracted/(?P<student_id>[A-Za-z0-9.-]+)_[^/]*/(?:[^/]+/)*?"
    r"(?P<file_id>cnnlib/(?!\.)[A-Za-z0-9_]+\.py|(?!\.)[^/]+\.ipynb|lenet5_weights\.npz)$"
)

# Grading that holds (cnngrader.autograding): graded cells restored from the source and the
# problem named; the hidden tests run by the grader (not the student's kernel) on a snapshot of
# the student's package, in a sandbox; a sandboxed kernel with per-cell timeouts, restarted when
# it dies, so a submission is always graded and always gets feedback.
c.Autograde.sanitize_preprocessors = [
    "cnngrader.autograding.RepairCells",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "cnngrader.autograding.GradingExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.GradingExecute.timeout = int(os.environ.get("CNNGRADER_CELL_TIMEOUT", 60))  # seconds per cell, in the kernel
c.GradingExecute.judge_timeout = int(os.environ.get("CNNGRADER_JUDGE_TIMEOUT", 60))  # seconds per hidden test
c.GradingExecute.kernel_memory = 8 << 30  # bytes of address space for the student's kernel
