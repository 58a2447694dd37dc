"""The data at the bottom: plain, frozen types that every package of bed may import, and that
import nothing of bed's above them (only the runner's contract, which is itself a leaf).
"""
